// kube-proxy as seen from a node: its mode (:10249/proxyMode), its health (:10256/healthz)
// and when it last synced its rules (:10249/metrics). Works wherever node commands run.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { gaugeValue } from '../parse/prometheus.js';
import { nodeHttp } from './node-probe.js';

/** kube-proxy's metrics and healthz, on the node's loopback of the node's own family (an IPv6-only node has no 127.0.0.1 listener). */
export function kubeProxyEndpoints(node: NodeInfo): { metrics: string; healthz: string } {
  const loopback = node.internalIP.includes(':') ? '[::1]' : '127.0.0.1';
  return { metrics: `http://${loopback}:10249`, healthz: `http://${loopback}:10256/healthz` };
}

export interface KubeProxyStatus {
  node: string;
  running: boolean;
  mode?: string;
  /** Unix seconds of the last successful rules sync. */
  lastSync?: number;
  problem?: string;
}

export async function kubeProxyStatus(cluster: Cluster, node: NodeInfo): Promise<KubeProxyStatus> {
  const at = kubeProxyEndpoints(node);
  const health = await nodeHttp(cluster, node, at.healthz);
  if (health.ok !== 1)
    return {
      node: node.name,
      running: false,
      problem:
        `healthz ${at.healthz}: ${Object.keys(health.errors ?? {}).join(', ')} ${health.sampleError ?? ''}`.trim(),
    };
  const mode = Object.keys((await nodeHttp(cluster, node, `${at.metrics}/proxyMode`)).answers)[0];
  // Only the metric needed: k3s serves every component's metrics on one page of several MB.
  const metrics =
    Object.keys(
      (await nodeHttp(cluster, node, `${at.metrics}/metrics`, 1, '^kubeproxy_sync_proxy_rules_last_timestamp_seconds'))
        .answers,
    )[0] ?? '';
  const lastSync = gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', {
    ip_family: node.internalIP.includes(':') ? 'IPv6' : 'IPv4',
  });
  return { node: node.name, running: true, mode, lastSync };
}

/** What kube-proxy on a node showed of one Service created at `created` (Unix seconds). */
export interface SyncEvidence {
  node: string;
  created: number;
  /** kube-proxy's last successful sync (Unix seconds); undefined when its metrics do not say. */
  lastSync?: number;
  /** Where its rules send the Service's port now ("10.244.1.3:9376"), and where they must. */
  rules: string[];
  want: string[];
}

/**
 * Why kube-proxy did not sync its rules for a Service created after it started ([] when it did):
 * the Service's own rules are missing or stale, or its last sync is older than the Service. A
 * periodic sync alone proves nothing: a kube-proxy whose watch is stuck keeps syncing old rules.
 * The Service lives in a namespace of this run, so rules naming it appeared after its creation.
 */
export function syncProblems(evidence: SyncEvidence): string[] {
  const { node, created, lastSync, rules, want } = evidence;
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  const problems: string[] = [];
  if (rules.join() !== want.join())
    problems.push(
      `kube-proxy on ${node} sends the Service to ${rules.join(', ') || 'nowhere (no rules)'}, not to its endpoints ${want.join(', ')}`,
    );
  if (lastSync === undefined) problems.push(`kube-proxy on ${node} reports no last sync time`);
  else if (lastSync < Math.floor(created))
    problems.push(
      `kube-proxy on ${node} last synced at ${at(lastSync)}, before the Service was created at ${at(created)}`,
    );
  return problems;
}
