// Runs a command "on a node": in the node's network namespace on the local cluster (with
// its own /sys, so /sys/class/net shows the node's links), `docker exec` into a kind node.
// The spec never knows which.
import { run, type ExecResult, type RunOptions } from '../host/run.js';
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';

export async function runOnNode(cluster: ClusterHandle, node: NodeInfo, command: string[], options: RunOptions = {}): Promise<ExecResult> {
  switch (cluster.nodeAccess) {
    case 'netns':
      return run('ip', ['netns', 'exec', node.target!, ...command], { where: `on node ${node.name}`, ...options });
    case 'docker-exec':
      return run('docker', ['exec', node.target!, ...command], { where: `on node ${node.name}`, ...options });
    default:
      throw new Error(`node commands are not available on this cluster (node access: ${cluster.nodeAccess})`);
  }
}

/** Whether node-level checks can run here; the reason is the skip message when not. */
export function nodeAccessSkipReason(cluster: ClusterHandle): string | undefined {
  return cluster.nodeAccess === 'none' ? 'no node access on this cluster (pass --node-access privileged-pod to allow it)' : undefined;
}
