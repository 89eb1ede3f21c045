// kube-proxy as seen from a node: its mode (:10249/proxyMode), its health (:10256/healthz)
// and when it last synced its rules (:10249/metrics). Works wherever node commands run.
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';
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
