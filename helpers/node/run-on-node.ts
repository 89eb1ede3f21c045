// Runs a command "on a node": in the node's network namespace on the local cluster (with
// its own /sys, so /sys/class/net shows the node's links), `docker exec` into a kind node,
// or (--node-access privileged-pod) through the API in the node's privileged pod, with the
// node's own tools (chroot into its root filesystem). The spec never knows which.
import { run, type ExecResult, type RunOptions } from '../host/run.js';
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';
import { execInPod } from '../kube/exec.js';
import { Kube } from '../kube/client.js';

/** Where svcprobe lives in the suites' client image (and in kind nodes): run as it is, not on the node's filesystem. */
export const IMAGE_PROBE = '/svcprobe';

/** Where a node-access pod (--node-access privileged-pod) sees the node's root filesystem. */
export const NODE_ROOT = '/host';
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function runOnNode(cluster: ClusterHandle, node: NodeInfo, command: string[], options: RunOptions = {}): Promise<ExecResult> {
  switch (cluster.nodeAccess) {
    case 'netns':
      return run('ip', ['netns', 'exec', node.target!, ...command], { where: `on node ${node.name}`, ...options });
    case 'docker-exec':
      return run('docker', ['exec', node.target!, ...command], { where: `on node ${node.name}`, ...options });
    case 'privileged-pod': {
      const [namespace, name] = node.target!.split('/');
      // The pod shares the node's network (and its /sys shows the node's links); tools are the node's own.
      const inPod = command[0] === IMAGE_PROBE || command[0] === 'cat';
      // The image's PATH lacks the sbin directories where nodes keep iptables-save, nft and conntrack.
      const inNode = inPod ? command : ['/bin/busybox', 'env', `PATH=${NODE_PATH}`, '/bin/busybox', 'chroot', NODE_ROOT, ...command];
      return execInPod(kubeFor(cluster.kubeconfig), { namespace, name }, inNode, { allowFailure: options.allowFailure, timeoutMs: options.timeoutMs });
    }
    default:
      throw new Error(`node commands are not available on this cluster (node access: ${cluster.nodeAccess})`);
  }
}

const clients = new Map<string, Kube>();
function kubeFor(kubeconfig: string): Kube {
  if (!clients.has(kubeconfig)) clients.set(kubeconfig, new Kube(kubeconfig));
  return clients.get(kubeconfig)!;
}

/** Whether node-level checks can run here; the reason is the skip message when not. */
export function nodeAccessSkipReason(cluster: ClusterHandle): string | undefined {
  return cluster.nodeAccess === 'none' ? 'no node access on this cluster (pass --node-access privileged-pod to allow it)' : undefined;
}

/** In a test that runs commands on the nodes: skips it, with the reason, where they cannot run. */
export function skipWithoutNodeAccess(cluster: ClusterHandle, skip: (note: string) => void): void {
  const reason = nodeAccessSkipReason(cluster);
  if (reason) skip(reason);
}
