// The evidence and verdict as Markdown: test-results/diagnostics/<spec>.md on a failed
// spec, and the body of `svc-conformance diagnose`.
import { describeProxyProcess } from './kube-proxy-process.js';
import type { Evidence } from './evidence.js';
import { nodeNotes } from './node-layer.js';
import type { OverlayLayer } from './overlay.js';
import { matrixMarkdown } from './path-matrix.js';
import { formatVerdict, type Verdict } from './verdict.js';

export function evidenceMarkdown(title: string, ev: Evidence, v: Verdict): string {
  const list = (items: string[]) => (items.length ? items.map((i) => `- ${i}`).join('\n') : '- (none)');
  const addresses = (a: Evidence['endpoints']) =>
    list(
      a.map(
        (e) =>
          `${e.address} ${e.ready ? 'ready' : 'NOT ready'}${e.podName ? ` (pod ${e.podName}${e.node ? ` on ${e.node}` : ''})` : ''}`,
      ),
    );
  const spec = ev.serviceSpec;
  return [
    `# ${title}`,
    '',
    `**${formatVerdict(v)}**`,
    '',
    `## Service ${ev.namespace}/${ev.service}`,
    ev.found ? '' : 'does not exist',
    spec
      ? list([
          `type ${spec.type}, ClusterIP ${spec.clusterIP}`,
          `selector ${JSON.stringify(spec.selector ?? {})}`,
          ...(spec.ports ?? []).map((p) => `port ${p.name ?? ''} ${p.port}/${p.protocol} → targetPort ${p.targetPort}`),
        ])
      : '',
    ev.selectorExplanation ? `\n${ev.selectorExplanation}` : '',
    ev.definitionProblems.length ? `\nDefinition problems:\n${list(ev.definitionProblems)}` : '',
    '',
    '## Pods the selector matches',
    list(ev.pods.map((p) => `${p.summary}, ${p.ip ?? 'no IP'} on ${p.node ?? '?'}`)),
    '',
    '## Endpoints',
    addresses(ev.endpoints),
    '',
    '## EndpointSlices',
    addresses(ev.slices),
    '',
    '## Warning events',
    list(ev.events),
    '',
    '## Nodes',
    ...ev.nodes.flatMap((n) => [
      `### ${n.node}`,
      list([
        `kube-proxy: ${n.kubeProxy ? (n.kubeProxy.running ? `running, mode ${n.kubeProxy.mode}` : `NOT running: ${n.kubeProxy.problem}`) : 'unknown'}`,
        `rules for the Service send to: ${n.programmed?.join(', ') || 'nothing'}`,
        ...(n.rules
          ? [
              `rules against the Service's spec (${n.rules.mode}): ${n.ruleProblems?.map((p) => p.problem).join('; ') || `as it asks (affinity ${n.rules.affinitySeconds ?? 'none'}${n.rules.nodePorts.length ? `, NodePort ${n.rules.nodePorts.join(', ')}, external traffic ${n.rules.masqueradesExternal ? 'masqueraded' : 'not masqueraded'}${n.rules.dropsWithoutLocalEndpoints ? ', dropped here (no local endpoint)' : ''}` : ''})`}`,
            ]
          : []),
        ...(n.staleUdp?.length ? [`UDP conntrack entries sending to no ready endpoint: ${n.staleUdp.join('; ')}`] : []),
        ...(n.proxyProcesses
          ? [
              `kube-proxy processes: ${n.proxyProcesses.map(describeProxyProcess).join('; ') || 'none'}; last sync ${n.lastSync ? new Date(n.lastSync * 1000).toISOString() : 'unknown'}`,
            ]
          : []),
        ...(n.layer ? layerLines(n.layer) : []),
        ...(n.hairpin ?? []).map((h) => `hairpin for ${h.pod}: ${h.description}`),
        ...n.errors.map((e) => `could not read ${e}`),
      ]),
      n.conntrack ? `\nconntrack entries for the ClusterIP:\n\n\`\`\`\n${n.conntrack}\n\`\`\`` : '',
    ]),
    '',
    '## DNS',
    list([
      `CoreDNS ready pods: ${ev.coredns.readyPods} (${ev.coredns.pods.join('; ') || 'none'})`,
      ev.resolvConf
        ? `resolv.conf of ${ev.resolvConf.pod}: nameserver ${ev.resolvConf.conf.nameservers.join(' ')}; search ${ev.resolvConf.conf.search.join(' ')}; ndots ${ev.resolvConf.conf.options.ndots ?? 'unset'}`
        : 'no client pod to read resolv.conf from',
    ]),
    '',
    '## Data path from every node',
    '',
    ev.path ? matrixMarkdown(ev.path) : 'not probed',
    '',
    '## Control plane',
    ev.controlPlane
      ? list([
          `API server: ${ev.controlPlane.api.ok ? 'answers' : `does not answer: ${ev.controlPlane.api.detail}`}`,
          ...(ev.controlPlane.namespace
            ? [
                `namespace ${ev.controlPlane.namespace.name}: ${ev.controlPlane.namespace.ageSeconds} s old, ServiceAccount default ${ev.controlPlane.namespace.hasDefaultServiceAccount ? 'present' : 'MISSING'}`,
              ]
            : []),
          ...ev.controlPlane.leases.map(
            (l) => `lease ${l.component}: held by ${l.holder ?? 'nobody'}, renewed ${l.renewedSecondsAgo ?? '?'} s ago`,
          ),
          ...ev.controlPlane.deployments.map(
            (d) => `Deployment ${d.name}: ${d.replicas} replicas, ${d.replicaSets} ReplicaSet(s), ${d.pods} pod(s)`,
          ),
          ...ev.controlPlane.unscheduled.map(
            (p) => `pod ${p.pod} unscheduled for ${p.ageSeconds} s${p.events.length ? `: ${p.events.at(-1)}` : ''}`,
          ),
          ...ev.controlPlane.failedCreates,
        ])
      : 'not read',
    ev.errors.length ? `\n## Not collected\n${list(ev.errors)}` : '',
    '',
  ].join('\n');
}

function layerLines(layer: NonNullable<Evidence['nodes'][number]['layer']>): string[] {
  const rp = Object.entries(layer.rpFilter)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `ip_forward ${layer.ipForward === undefined ? 'unknown' : layer.ipForward ? '1' : '0'}, bridge-nf-call-iptables ${layer.bridgeNfCallIptables === undefined ? 'unknown' : layer.bridgeNfCallIptables ? '1' : '0'}, rp_filter ${rp || 'unknown'}`,
    `conntrack: ${layer.conntrack ? `${layer.conntrack.count} of ${layer.conntrack.max}` : 'unknown'}`,
    `firewall drops or rejects of the cluster's traffic (not kube-proxy's or the CNI's): ${
      layer.firewall
        .map((f) => `${f.family} ${f.table} ${f.chain}: ${f.kind === 'policy' ? `policy ${f.verdict}` : f.text}`)
        .join('; ') || 'none'
    }`,
    `routes to other nodes' pods: ${layer.podRoutes.map((r) => `${r.cidr} (${r.node}) ${r.problem ?? r.route ?? ''}`).join('; ') || 'none needed'}`,
    `MTU: ${layer.mtus.map((m) => `${m.link} ${m.mtu}`).join(', ') || 'unknown'}`,
    ...(layer.overlay ? overlayLines(layer.overlay) : []),
    ...nodeNotes(layer),
    ...layer.errors.map((e) => `could not read ${e}`),
  ];
}

/** The VXLAN overlay of a node: device, flanneld, subnet.env and what it lacks for each other node's lease. */
function overlayLines(o: OverlayLayer): string[] {
  const d = o.device;
  return [
    `VXLAN: ${d ? `${d.name} ${d.up ? 'up' : 'DOWN'}, VNI ${d.vni}, UDP ${d.port}, local ${d.local} dev ${d.link}, MTU ${d.mtu}, MAC ${d.mac}` : 'no VXLAN device'}`,
    `flanneld: ${o.flanneld.map((p) => `pid ${p.pid} state ${p.state}, up ${p.ageSeconds}s`).join('; ') || 'not running'}; ${o.subnetFile}: ${o.subnetEnv ? `network ${o.subnetEnv.network}, subnet ${o.subnetEnv.subnet}, MTU ${o.subnetEnv.mtu}, ipmasq ${o.subnetEnv.ipMasq}` : 'missing or incomplete'}`,
    `FDB: ${o.fdb.map((e) => `${e.mac} → ${e.dst ?? 'self'}`).join(', ') || 'none'}; neighbours: ${o.neighbours.map((n) => `${n.dst} → ${n.lladdr ?? '?'}`).join(', ') || 'none'}`,
    ...o.peers.map(
      (p) =>
        `lease of ${p.lease.node}: ${p.lease.podCIDR} at ${p.lease.publicIP}, VTEP ${p.lease.vtepMAC ?? '?'}: ${p.problems.join('; ') || 'FDB and neighbour in place'}`,
    ),
  ];
}
