// The evidence and verdict as Markdown: test-results/diagnostics/<spec>.md on a failed
// spec, and the body of `svc-conformance diagnose`.
import type { Evidence } from './evidence.js';
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
        `pod routes missing: ${n.missingPodRoutes?.join(', ') || 'none'}`,
        ...(n.hairpin ?? []).map((h) => `hairpin for ${h.pod}: ${h.description}`),
        ...n.errors.map((e) => `could not read ${e}`),
      ]),
      n.conntrack ? `\nconntrack entries for the ClusterIP:\n\n\`\`\`\n${n.conntrack}\n\`\`\`` : '',
    ]),
    '',
    '## DNS',
    list([
      `CoreDNS ready pods: ${ev.coredns.readyPods} (${ev.coredns.pods.join('; ') || 'none'})`,
      `direct query from a node: ${ev.coredns.directQuery ?? 'not made'}`,
      ev.resolvConf
        ? `resolv.conf of ${ev.resolvConf.pod}: nameserver ${ev.resolvConf.conf.nameservers.join(' ')}; search ${ev.resolvConf.conf.search.join(' ')}; ndots ${ev.resolvConf.conf.options.ndots ?? 'unset'}`
        : 'no client pod to read resolv.conf from',
    ]),
    ev.errors.length ? `\n## Not collected\n${list(ev.errors)}` : '',
    '',
  ].join('\n');
}
