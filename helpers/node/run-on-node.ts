// Node commands as the node-level checks use them, and whether this cluster allows them.
import type { ExecResult, RunOptions } from '../host/run.js';
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';
import { nodeShell } from '../cluster/node-shell.js';

export function runOnNode(
  cluster: ClusterHandle,
  node: NodeInfo,
  command: string[],
  options: RunOptions = {},
): Promise<ExecResult> {
  return nodeShell(cluster, node).run(command, options);
}

/** Whether node-level checks can run here; the reason is the skip message when not. */
export function nodeAccessSkipReason(cluster: ClusterHandle): string | undefined {
  return cluster.nodeAccess === 'none'
    ? 'no node access on this cluster (pass --node-access privileged-pod to allow it)'
    : undefined;
}

/** In a test that runs commands on the nodes: skips it, with the reason, where they cannot run. */
export function skipWithoutNodeAccess(cluster: ClusterHandle, skip: (note: string) => void): void {
  const reason = nodeAccessSkipReason(cluster);
  if (reason) skip(reason);
}

/** The link-layer address of a node's interface (`eth0`: its leg of the nodes' segment). */
export async function nodeLinkAddress(
  cluster: ClusterHandle,
  node: NodeInfo,
  link = 'eth0',
): Promise<string | undefined> {
  const shown = await runOnNode(cluster, node, ['ip', '-j', 'link', 'show', link], { allowFailure: true });
  return (JSON.parse(shown.stdout || '[]') as { address?: string }[])[0]?.address;
}
