// UDP from a node itself (svcprobe in the node's network namespace): what node processes, and
// hostNetwork pods, see of a Service's ClusterIP and NodePort over UDP.
import type { Cluster } from '../cluster/cluster.js';
import { nodeShell } from '../cluster/node-shell.js';
import type { NodeInfo } from '../cluster/provider.js';
import type { FlowResult, Tally } from '../parse/svcprobe.js';
import { runProbe } from './node-probe.js';

/** `count` datagrams ("hostname") to `address`, a new socket each, from `node`; each reply tallied. */
export function nodeUdp(cluster: Cluster, node: NodeInfo, address: string, count: number): Promise<Tally> {
  return runProbe<Tally>(
    nodeShell(cluster, node),
    cluster.nodeAccess,
    ['udp', address, `--count=${count}`],
    `on node ${node.name}`,
    cluster.settings,
  );
}

/** A UDP flow from `node` itself (svcprobe udp-flow): `count` datagrams from source port `localPort`, in order. */
export function nodeUdpFlow(
  cluster: Cluster,
  node: NodeInfo,
  address: string,
  options: { count: number; intervalMs: number; localPort: number },
): Promise<FlowResult> {
  return runProbe<FlowResult>(
    nodeShell(cluster, node),
    cluster.nodeAccess,
    [
      'udp-flow',
      address,
      `--count=${options.count}`,
      `--interval=${options.intervalMs}ms`,
      `--local-port=${options.localPort}`,
    ],
    `on node ${node.name}`,
    cluster.settings,
  );
}
