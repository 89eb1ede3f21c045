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
