// The node side of a pod's network link: which veth it is, the bridge it hangs on, and the
// hairpin setting in force (the port's hairpin_mode, or a promiscuous bridge). Found from
// the pod's eth0 `iflink` (the ifindex of its peer on the node).
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { runOnNode } from './run-on-node.js';

export interface BridgePort {
  node: string;
  veth: string;
  /** Undefined when the pod's link is not on a bridge (e.g. a point-to-point CNI). */
  bridge?: string;
  hairpinMode?: boolean;
  bridgePromiscuous?: boolean;
}

const IFF_PROMISC = 0x100;

export async function podBridgePort(cluster: Cluster, node: NodeInfo, peerIndex: number): Promise<BridgePort> {
  const links = (await runOnNode(cluster, node, ['ip', '-o', 'link', 'show'])).stdout;
  const line = links.split('\n').find((l) => l.startsWith(`${peerIndex}: `));
  if (!line) throw new Error(`no link with ifindex ${peerIndex} on node ${node.name} (the pod's eth0 peer)`);
  const veth = line.split(': ')[1].split('@')[0];
  const read = async (path: string) =>
    (await runOnNode(cluster, node, ['cat', path], { allowFailure: true })).stdout.trim();
  const master = /\bmaster (\S+)/.exec(line)?.[1];
  if (!master) return { node: node.name, veth };
  const hairpin = await read(`/sys/class/net/${veth}/brport/hairpin_mode`);
  const flags = Number.parseInt(await read(`/sys/class/net/${master}/flags`), 16);
  return {
    node: node.name,
    veth,
    bridge: master,
    hairpinMode: hairpin === '1',
    bridgePromiscuous: (flags & IFF_PROMISC) !== 0,
  };
}

export function describeHairpin(port: BridgePort): string {
  if (!port.bridge) return `${port.veth} on ${port.node} is not a bridge port (no hairpin setting applies)`;
  return `${port.veth} on bridge ${port.bridge} (${port.node}): hairpin_mode ${port.hairpinMode ? 1 : 0}, bridge ${port.bridgePromiscuous ? 'promiscuous' : 'not promiscuous'}`;
}
