// `svc-conformance diagnose NS/SERVICE`: the guide's decision tree on a user's own Service.
// Nothing of theirs is changed; one throwaway client pod (in a throwaway namespace) does
// the in-cluster lookups and requests. Each item is ✓, ✗ or – (could not check, and why).
import type { Cluster } from '../cluster/cluster.js';
import { nodeHttp } from '../node/node-probe.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { ClientPod } from '../workloads/client-pod.js';
import type { Evidence } from './evidence.js';
import { formatVerdict, rulesMismatch, verdict, type Verdict } from './verdict.js';
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
    const skip = nodeAccessSkipReason(cluster);
    if (skip) add('ClusterIP answers from a node', undefined, skip);
    else {
      const n = await nodeHttp(cluster, cluster.nodes[0], `http://${hostPort(spec.clusterIP, port.port)}/`, 3);
      add(
        'ClusterIP answers from a node',
        n.ok === 3,
        `from ${cluster.nodes[0].name}: ${n.ok}/3 answered ${n.sampleError ?? ''}`.trim(),
      );
    }
  }
  if (ev.nodes.length) {
    const wrong = ev.nodes.filter((n) => {
      const { missing, stale } = rulesMismatch(ev, n);
      return !n.kubeProxy?.running || missing.length > 0 || stale.length > 0;
    });
    add(
      'kube-proxy rules on every node',
      wrong.length === 0,
      ev.nodes
        .map(
          (n) =>
            `${n.node}: ${n.kubeProxy?.running ? `${n.kubeProxy.mode}, → ${n.programmed?.join(', ') || 'nothing'}` : 'kube-proxy not running'}`,
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
