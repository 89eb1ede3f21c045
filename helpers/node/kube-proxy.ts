// kube-proxy as seen from a node: its mode (:10249/proxyMode), its health (:10256/healthz)
// and when it last synced its rules (:10249/metrics). Works wherever node commands run.
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';
import { waitFor } from '../kube/wait.js';
import { nodeHttp } from './node-probe.js';

export const KUBE_PROXY_METRICS = 'http://127.0.0.1:10249';
export const KUBE_PROXY_HEALTHZ = 'http://127.0.0.1:10256/healthz';

export interface KubeProxyStatus {
  node: string;
  running: boolean;
  mode?: string;
  /** Unix seconds of the last successful rules sync. */
  lastSync?: number;
  problem?: string;
}

/**
 * Waits until kube-proxy on every node has finished a rules sync that covers a change made
 * before `since` (unix seconds): its last sync ended after `since`, and nothing is queued
 * behind it. This is the right condition for "the Service's rules are in place".
 */
export async function waitForKubeProxySync(cluster: ClusterHandle, since: number, budgetMs: number): Promise<void> {
  await Promise.all(
    cluster.nodes.map((node) =>
      waitFor(`kube-proxy on ${node.name} synced after ${new Date(since * 1000).toISOString()}`, budgetMs, async () => {
        const page = Object.keys((await nodeHttp(cluster, node, `${KUBE_PROXY_METRICS}/metrics`)).answers)[0] ?? '';
        const synced = metricValue(page, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv4' }) ?? 0;
        const queued = metricValue(page, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', { ip_family: 'IPv4' }) ?? 0;
        return { done: synced >= since && queued <= synced, seen: `last sync ${synced}, last queued ${queued}` };
      }),
    ),
  );
}

export async function kubeProxyStatus(cluster: ClusterHandle, node: NodeInfo): Promise<KubeProxyStatus> {
  const health = await nodeHttp(cluster, node, KUBE_PROXY_HEALTHZ);
  if (health.ok !== 1) return { node: node.name, running: false, problem: `healthz ${KUBE_PROXY_HEALTHZ}: ${Object.keys(health.errors ?? {}).join(', ')} ${health.sampleError ?? ''}`.trim() };
  const mode = Object.keys((await nodeHttp(cluster, node, `${KUBE_PROXY_METRICS}/proxyMode`)).answers)[0];
  const metrics = Object.keys((await nodeHttp(cluster, node, `${KUBE_PROXY_METRICS}/metrics`)).answers)[0] ?? '';
  const lastSync = metricValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv4' });
  return { node: node.name, running: true, mode, lastSync };
}

/** The value of a Prometheus metric in a text exposition, the first sample carrying all the given labels. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split('\n')) {
    const match = /^([^\s{]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    if (wanted.every((w) => (match[2] ?? '').includes(w))) return Number(match[3]);
  }
  return undefined;
}
