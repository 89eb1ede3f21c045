// A command "on a node", whichever way the provider reaches it: in the node's network
// namespace on the local cluster (with its own /sys, so /sys/class/net shows the node's
// links), `docker exec` into a kind or k3s node, or (--node-access privileged-pod) through the
// API in the node's privileged pod with the node's own tools (chroot into its root filesystem).
// A spec never knows which: it asks nodeShell() for the node's shell.
import { run, runLines, type ExecResult, type LineProcess, type RunOptions } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import type { ClusterHandle, NodeInfo, NodeShellSpec } from './provider.js';

/** Where svcprobe lives in the suites' client image (and in kind and k3s nodes). */
export const IMAGE_PROBE = '/svcprobe';

/** Where a node-access pod (--node-access privileged-pod) sees the node's root filesystem. */
export const NODE_ROOT = '/host';

/** The image's PATH lacks the sbin directories where nodes keep iptables-save, nft and conntrack. */
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface NodeShell {
  /** How commands get there, for reports ("netns svc-n1", "pod node-access-r1/node-1"). */
  readonly describe: string;
  run(command: string[], options?: RunOptions): Promise<ExecResult>;
  readFile(path: string): Promise<string>;
  /** A long-running command fed and read line by line; absent where the node is reached through the API. */
  lines?(command: string[], options: { timeoutMs: number }): LineProcess;
}

/** The shell of a node (or the external client); throws where the cluster gives no node access. */
export function nodeShell(
  cluster: Pick<ClusterHandle, 'kubeconfig' | 'nodeAccess'>,
  node: Pick<NodeInfo, 'name' | 'shell'>,
): NodeShell {
  if (!node.shell)
    throw new Error(`node commands are not available on this cluster (node access: ${cluster.nodeAccess})`);
  return shellFor(node.shell, `on node ${node.name}`, cluster.kubeconfig);
}

export function shellFor(spec: NodeShellSpec, where: string, kubeconfig: string): NodeShell {
  switch (spec.via) {
    case 'netns':
      return hostShell('ip', ['netns', 'exec', spec.netns], where, `netns ${spec.netns}`);
    case 'docker-exec':
      return hostShell('docker', ['exec', spec.container], where, `container ${spec.container}`, [
        'exec',
        '-i',
        spec.container,
      ]);
    case 'privileged-pod':
      return podShell(spec, kubeconfig);
  }
}

/** `streamPrefix`: the prefix for commands fed on stdin (docker exec needs -i to pass it on). */
function hostShell(
  file: string,
  prefix: string[],
  where: string,
  describe: string,
  streamPrefix: string[] = prefix,
): NodeShell {
  const shell: NodeShell = {
    describe,
    run: (command, options = {}) => run(file, [...prefix, ...command], { where, ...options }),
    readFile: async (path) => (await shell.run(['cat', path])).stdout,
    lines: (command, options) => runLines(file, [...streamPrefix, ...command], { where, ...options }),
  };
  return shell;
}

function podShell(spec: { namespace: string; pod: string }, kubeconfig: string): NodeShell {
  const pod = { namespace: spec.namespace, name: spec.pod };
  const exec = (command: string[], options: RunOptions = {}) =>
    execInPod(kubeFor(kubeconfig), pod, command, { allowFailure: options.allowFailure, timeoutMs: options.timeoutMs });
  return {
    describe: `pod ${spec.namespace}/${spec.pod}`,
    // The pod shares the node's network (its /sys shows the node's links); svcprobe is the image's own.
    run: (command, options) =>
      exec(
        command[0] === IMAGE_PROBE || command[0] === 'cat'
          ? command
          : ['/bin/busybox', 'env', `PATH=${NODE_PATH}`, '/bin/busybox', 'chroot', NODE_ROOT, ...command],
        options,
      ),
    readFile: async (path) => (await exec(['cat', path])).stdout,
  };
}

const clients = new Map<string, Kube>();
function kubeFor(kubeconfig: string): Kube {
  if (!clients.has(kubeconfig)) clients.set(kubeconfig, new Kube(kubeconfig));
  return clients.get(kubeconfig)!;
}
