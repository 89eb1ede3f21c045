// kube-proxy's own view of a scale run, from its /metrics on each node: the network-programming
// histogram (from the trigger-time annotation to the rules), the sync-round histogram, and its
// resident memory. Scraped before and after; the histograms are compared as deltas.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { kubeProxyEndpoints } from '../node/kube-proxy.js';
import { nodeHttp } from '../node/node-probe.js';
import {
  histogramDelta,
  histogramQuantile,
  parseHistogram,
  residentMemoryBytes,
  type Histogram,
} from '../parse/prometheus.js';

export const PROGRAMMING = 'kubeproxy_network_programming_duration_seconds';
export const SYNC = 'kubeproxy_sync_proxy_rules_duration_seconds';
const RSS = 'process_resident_memory_bytes';

export interface ProxyScrape {
  node: string;
  programming?: Histogram;
  sync?: Histogram;
  rssBytes?: number;
}

export async function scrapeKubeProxy(cluster: Cluster, node: NodeInfo): Promise<ProxyScrape> {
  const url = `${kubeProxyEndpoints(node).metrics}/metrics`;
  const wanted = `^(${PROGRAMMING}|${SYNC}|${RSS})[ _{]`;
  const tally = await nodeHttp(cluster, node, url, 1, wanted);
  const text = Object.keys(tally.answers)[0] ?? '';
  if (!text) throw new Error(`kube-proxy's metrics on ${node.name} (${url}) gave nothing: ${tally.sampleError ?? ''}`);
  // Both IP families' series, added: a single-stack node observes in one of them only.
  return {
    node: node.name,
    programming: parseHistogram(text, PROGRAMMING),
    sync: parseHistogram(text, SYNC),
    rssBytes: residentMemoryBytes(text),
  };
}

/** p50 and p99 of what a histogram counted between two scrapes, summed over nodes. */
export function deltaQuantiles(
  before: ProxyScrape[],
  after: ProxyScrape[],
  pick: (s: ProxyScrape) => Histogram | undefined,
): { p50?: number; p99?: number; count: number } {
  const deltas = after.flatMap((a) => {
    const h = pick(a);
    return h ? [histogramDelta(pick(before.find((b) => b.node === a.node) ?? { node: a.node }), h)] : [];
  });
  if (!deltas.length) return { count: 0 };
  // Nodes share bucket bounds (one kube-proxy version): add them bucket by bucket.
  const sum: Histogram = {
    buckets: deltas[0].buckets.map((b, i) => ({
      le: b.le,
      count: deltas.reduce((n, d) => n + (d.buckets[i]?.count ?? 0), 0),
    })),
    sum: deltas.reduce((n, d) => n + d.sum, 0),
    count: deltas.reduce((n, d) => n + d.count, 0),
  };
  return { p50: histogramQuantile(0.5, sum), p99: histogramQuantile(0.99, sum), count: sum.count };
}
