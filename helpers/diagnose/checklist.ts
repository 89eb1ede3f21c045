// `svc-conformance diagnose NS/SERVICE`: the guide's decision tree on a user's own Service.
// Nothing of theirs is changed; one throwaway client pod (in a throwaway namespace) does
// the in-cluster lookups and requests. Each item is ✓, ✗ or – (could not check, and why).
import type { Cluster } from '../cluster/cluster.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { ClientPod } from '../workloads/client-pod.js';
import { rulesMismatch, type Evidence } from './evidence.js';
import { nodeSettings } from './node-layer.js';
import { readDnsLayer, readPodLayer, readServiceLayer, type Hop, type PathCell } from './path-matrix.js';
import { controlPlaneOf, formatVerdict, verdict, type Verdict } from './verdict.js';
import { hostPort } from '../address.js';

export interface CheckItem {
  check: string;
  ok?: boolean; // undefined: not checked
  evidence: string;
}

export async function runChecklist(
  cluster: Cluster,
  ev: Evidence,
  client: ClientPod,
): Promise<{ items: CheckItem[]; verdict: Verdict; healthy: boolean }> {
  const items: CheckItem[] = [];
  const add = (check: string, ok: boolean | undefined, evidence: string) => items.push({ check, ok, evidence });
  const id = `${ev.namespace}/${ev.service}`;
  const spec = ev.serviceSpec!;
  const port = spec.ports?.[0];

  const cp = ev.controlPlane;
  const cpCause = controlPlaneOf(ev);
  add(
    'control plane did its part',
    cp ? !cpCause : undefined,
    cpCause?.cause ??
      (cp
        ? `API server answers; ServiceAccount, ReplicaSets, scheduling and EndpointSlices in ${ev.namespace} as expected`
        : 'not read'),
  );

  add(
    'Service exists',
    true,
    `${id}: ${spec.type} ${spec.clusterIP}, ports ${(spec.ports ?? []).map((p) => `${p.port}/${p.protocol}→${p.targetPort}`).join(', ')}`,
  );
  add(
    'selector matches pods',
    ev.pods.length > 0,
    ev.pods.length
      ? `${ev.pods.length} pods: ${ev.pods.map((p) => p.name).join(', ')}`
      : (ev.selectorExplanation ?? 'no pods'),
  );
  add(
    'ports line up with the pods',
    ev.pods.length ? ev.definitionProblems.length === 0 : undefined,
    ev.definitionProblems.join('; ') ||
      (ev.pods.length ? 'targetPort and protocol match a container port' : 'no pods to compare'),
  );
  const ready = ev.slices.filter((e) => e.ready);
  add(
    'has ready endpoints',
    ready.length > 0,
    `${ready.length} ready in EndpointSlices: ${ready.map((e) => e.address).join(', ') || 'none'}`,
  );

  const answering: string[] = [];
  for (const e of ready) {
    const t = await client.http(`http://${e.address}/`);
    answering.push(`${e.address} ${t.ok ? 'answers' : (Object.keys(t.errors ?? {})[0] ?? 'no answer')}`);
  }
  const http = port?.protocol === 'TCP' || port?.protocol === undefined;
  add(
    'pods answer on their endpoints',
    http && ready.length ? answering.every((a) => a.endsWith('answers')) : undefined,
    http ? answering.join(', ') || 'no ready endpoints' : 'not an HTTP-over-TCP port: not probed',
  );

  const fqdn = `${ev.service}.${ev.namespace}.svc.${cluster.capabilities.clusterDomain}`;
  const lookup = await client.resolve(fqdn);
  add(
    'DNS name resolves from a pod',
    lookup.outcome === 'ok' && lookup.addrs?.includes(spec.clusterIP!),
    `${fqdn} → ${lookup.outcome} ${lookup.addrs?.join(', ') ?? lookup.error ?? ''}`,
  );

  if (spec.clusterIP && spec.clusterIP !== 'None' && port && http) {
    const t = await client.http(`http://${hostPort(spec.clusterIP, port.port)}/`, { count: 3 });
    add(
      'ClusterIP answers from a pod',
      t.ok === 3,
      `${hostPort(spec.clusterIP, port.port)}: ${t.ok}/3 answered ${t.sampleError ?? ''}`.trim(),
    );
  }
  // The data path hop by hop, from a probe pod on every node and from every node itself.
  const matrix = ev.path;
  const hop = (name: string, hops: Hop[], reading: { pattern: string } | undefined) => {
    const cells = matrix?.cells.filter((c) => hops.includes(c.hop)) ?? [];
    const decided = cells.filter((c) => c.ok !== undefined);
    add(
      name,
      decided.length ? !reading && decided.every((c) => c.ok) : undefined,
      !matrix
        ? 'not probed'
        : reading
          ? reading.pattern
          : decided.length
            ? `${decided.filter((c) => c.ok).length}/${decided.length} answered (${sourcesOf(decided)})${matrix.notes.length ? `; ${matrix.notes.join('; ')}` : ''}`
            : matrix.notes.join('; ') || 'nothing to probe',
    );
  };
  hop('pod IPs from every node', ['pod IP'], matrix && readPodLayer(matrix));
  hop('ClusterIP from every node', ['ClusterIP'], matrix && readServiceLayer(matrix));
  hop('DNS at CoreDNS and kube-dns', ['DNS at pod IP', 'DNS at Service IP'], matrix && readDnsLayer(matrix));
  const layers = ev.nodes.flatMap((n) => (n.layer ? [n.layer] : []));
  const settings = layers
    .flatMap((layer) => nodeSettings(layer))
    .filter((s) => s.setting && !s.setting.includes('of its own'));
  add(
    "nodes' network settings",
    layers.length ? settings.length === 0 : undefined,
    layers.length
      ? settings.map((s) => s.setting).join('; ') ||
          'forwarding on, no foreign drop or reject, routes to every pod range'
      : (nodeAccessSkipReason(cluster) ?? 'not read'),
  );
  if (ev.nodes.length) {
    const wrong = ev.nodes.filter((n) => {
      const { missing, stale } = rulesMismatch(ev, n);
      return !n.kubeProxy?.running || missing.length > 0 || stale.length > 0 || !!n.ruleProblems?.length;
    });
    add(
      'kube-proxy rules on every node',
      wrong.length === 0,
      ev.nodes
        .map(
          (n) =>
            `${n.node}: ${n.kubeProxy?.running ? `${n.kubeProxy.mode}, → ${n.programmed?.join(', ') || 'nothing'}${n.ruleProblems?.length ? ` (${n.ruleProblems.map((p) => p.problem).join('; ')})` : ''}` : 'kube-proxy not running'}`,
        )
        .join('; '),
    );
  } else {
    add('kube-proxy rules on every node', undefined, nodeAccessSkipReason(cluster) ?? 'no nodes');
  }

  const healthy = items.every((i) => i.ok !== false);
  return { items, verdict: verdict(ev, cluster.capabilities.dnsIP, cluster.capabilities.clusterDomain), healthy };
}

export function formatChecklist(items: CheckItem[], v: Verdict, healthy: boolean): string {
  const mark = (ok?: boolean) => (ok === undefined ? '–' : ok ? '✓' : '✗');
  const lines = items.map((i) => `${mark(i.ok)} ${i.check.padEnd(32)} ${i.evidence}`);
  lines.push('', healthy ? 'healthy: every check passed' : `root cause: ${formatVerdict(v)}`);
  return lines.join('\n');
}

/** "pods and nodes on n1, n2": where the cells were asked from. */
function sourcesOf(cells: PathCell[]): string {
  const kinds = [...new Set(cells.map((c) => `${c.from.kind}s`))].join(' and ');
  return `${kinds} on ${[...new Set(cells.map((c) => c.from.node))].join(', ')}`;
}
