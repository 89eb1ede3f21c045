// A VXLAN overlay on a node (flannel): its device, the FDB and neighbour entries it needs for
// every other node's lease, flanneld itself (its process, the subnet.env it writes) and the MTU
// its pods may use. Read with the node's tools (helpers/parse/vxlan.ts, subnet-env.ts); what is
// wrong becomes node settings that explain a broken cross-node hop of the path matrix, or the
// MTU a large request needs.
import type { NodeShell } from '../cluster/node-shell.js';
import { findingMatches, type FirewallFinding } from '../parse/firewall.js';
import { parseSubnetEnv, type SubnetEnv } from '../parse/subnet-env.js';
import {
  parseFdb,
  parseNeighbours,
  parseVxlanLink,
  type FdbEntry,
  type FlannelLease,
  type NeighbourEntry,
  type VxlanDevice,
} from '../parse/vxlan.js';
import { parseProxyProcesses, type ProxyProcess } from './kube-proxy-process.js';
import type { Fit } from './path-matrix.js';

/** Where flanneld writes subnet.env unless --subnet-file says otherwise. */
const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';

export interface OverlayLayer {
  /** The VXLAN device (flannel.1); absent when the node has none. */
  device?: VxlanDevice;
  fdb: FdbEntry[];
  neighbours: NeighbourEntry[];
  /** flanneld processes in the node's network namespace, with the subnet file each writes. */
  flanneld: (ProxyProcess & { subnetFile: string })[];
  subnetFile: string;
  subnetEnv?: SubnetEnv;
  /** Each other node's lease, and what is missing on this node to reach its VTEP. */
  peers: { lease: FlannelLease; problems: string[] }[];
  /** The largest inner packet the overlay carries: the device's MTU, and its underlay link's MTU less the encapsulation. */
  allowedMtu?: number;
  /** The underlay link's MTU (eth0), when read. */
  underlayMtu?: number;
  /** This node's links larger than the overlay carries: pod-side links (the CNI bridge, veths), or the VXLAN device itself. */
  oversized: { link: string; mtu: number }[];
}

/** VXLAN over IPv4 adds 50 bytes (outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14): flannel's MTU is its interface's less 50. */
export const VXLAN_OVERHEAD = 50;

/** flanneld processes of this network namespace: "PID STATE STARTTIME ARGS…", then the clock line parseProxyProcesses reads. */
const FLANNELD_SCRIPT = `me=$(readlink /proc/self/ns/net)
for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = flanneld ] || continue
  [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$me" ] || continue
  echo "\${d#/proc/} $(sed 's/^.*) //' "$d/stat" | cut -d' ' -f1,20) $(tr '\\0' ' ' < "$d/cmdline")"
done
echo "uptime $(cut -d' ' -f1 /proc/uptime) hz $(getconf CLK_TCK 2>/dev/null || echo 100)"`;

export async function collectOverlay(
  shell: NodeShell,
  node: string,
  leases: FlannelLease[],
  links: { link: string; mtu: number; pods: boolean }[],
): Promise<OverlayLayer> {
  const json = async (command: string[]) => (await shell.run(command, { allowFailure: true })).stdout;
  const device = parseVxlanLink(await json(['ip', '-d', '-j', 'link', 'show', 'type', 'vxlan']));
  const [fdb, neighbours] = device
    ? [
        parseFdb(await json(['bridge', '-j', 'fdb', 'show', 'dev', device.name])),
        parseNeighbours(await json(['ip', '-j', 'neigh', 'show', 'dev', device.name])),
      ]
    : [[], []];
  const processes = (await json(['sh', '-c', FLANNELD_SCRIPT])).trim().split('\n');
  const flanneld = parseProxyProcesses(processes.join('\n')).map((p) => {
    const args = processes.find((l) => l.startsWith(`${p.pid} `)) ?? '';
    return { ...p, subnetFile: /--subnet-file[= ](\S+)/.exec(args)?.[1] ?? DEFAULT_SUBNET_FILE };
  });
  const subnetFile = flanneld[0]?.subnetFile ?? DEFAULT_SUBNET_FILE;
  const subnetEnv = parseSubnetEnv(await shell.readFile(subnetFile).catch(() => ''));
  const underlayMtu = links.find((l) => l.link === device?.link)?.mtu;
  const allowedMtu = device && Math.min(device.mtu, underlayMtu ? underlayMtu - VXLAN_OVERHEAD : device.mtu);
  const oversized = device
    ? [...(device.mtu > allowedMtu! ? [device] : []), ...links.filter((l) => l.pods)]
        .map((l) => ({ link: 'name' in l ? l.name : l.link, mtu: l.mtu }))
        .filter((l) => l.mtu > allowedMtu!)
    : [];
  return {
    device,
    fdb,
    neighbours,
    flanneld,
    subnetFile,
    subnetEnv,
    peers: leases
      .filter((l) => l.node !== node && l.backendType === 'vxlan')
      .map((lease) => ({ lease, problems: peerProblems(device, fdb, neighbours, lease) })),
    allowedMtu,
    underlayMtu,
    oversized,
  };
}

/** What this node lacks to send another node's subnet to its VTEP: flanneld's FDB entry and neighbour entry. */
export function peerProblems(
  device: VxlanDevice | undefined,
  fdb: FdbEntry[],
  neighbours: NeighbourEntry[],
  lease: FlannelLease,
): string[] {
  if (!device) return [];
  const mac = lease.vtepMAC;
  if (!mac) return [`${lease.node}'s lease names no VTEP MAC`];
  const problems: string[] = [];
  const sent = fdb.filter((e) => e.mac === mac);
  if (!sent.length) problems.push(`no FDB entry on ${device.name} for ${lease.node}'s VTEP ${mac}`);
  else if (!sent.some((e) => e.dst === lease.publicIP))
    problems.push(
      `${device.name}'s FDB sends ${lease.node}'s VTEP ${mac} to ${sent.map((e) => e.dst).join(', ')}, not ${lease.publicIP}`,
    );
  const gateway = lease.podCIDR.split('/')[0];
  const neighbour = neighbours.find((n) => n.dst === gateway);
  if (!neighbour?.lladdr)
    problems.push(`no neighbour entry on ${device.name} for ${gateway} (${lease.node}'s subnet gateway)`);
  else if (neighbour.lladdr !== mac)
    problems.push(`${device.name}'s neighbour ${gateway} is ${neighbour.lladdr}, not ${lease.node}'s VTEP ${mac}`);
  return problems;
}

/** An overlay fault as a node setting: which path-matrix patterns it explains, and the next step. */
export interface OverlaySetting {
  node: string;
  toNode?: string;
  setting: string;
  explains: Fit[];
  next: string;
}

/** Every cross-node pattern: on two nodes a dead overlay on one fails both directions, read as a route or a node that does not forward. */
const CROSS_NODE: Fit[] = ['route', 'routes', 'forwarding', 'filtering'];

export function overlaySettings(node: string, overlay: OverlayLayer | undefined): OverlaySetting[] {
  if (!overlay) return [];
  const found: OverlaySetting[] = [];
  const stopped = overlay.flanneld.length ? '' : `flanneld is not running on ${node}`;
  const restart = `start flanneld on ${node} (kube-flannel's pod there) and read its log for why it stopped: it makes flannel.1 and the routes, FDB and neighbour entries to every other node's subnet`;
  if (!overlay.device) {
    const missing = [
      stopped,
      `there is no VXLAN device (flannel.1) on ${node}`,
      // Where subnet.env lives is read from a running flanneld's --subnet-file only.
      !stopped && !overlay.subnetEnv && `no ${overlay.subnetFile}`,
    ];
    found.push({
      node,
      setting: `${missing.filter(Boolean).join(', ')}, though the other nodes' leases are VXLAN`,
      explains: CROSS_NODE,
      next: restart,
    });
  } else if (!overlay.device.up)
    found.push({
      node,
      setting: `${overlay.device.name} on ${node} is down${stopped ? ` (${stopped})` : ''}`,
      explains: CROSS_NODE,
      next: stopped ? restart : `ip link set ${overlay.device.name} up on ${node}, or restart flanneld there`,
    });
  for (const peer of overlay.peers.filter((p) => p.problems.length))
    found.push({
      node,
      toNode: peer.lease.node,
      setting: `${peer.problems.join('; ')} (on ${node}${stopped ? `, where ${stopped}` : ''})`,
      explains: ['route', 'routes'],
      next: stopped
        ? restart
        : `restart flanneld on ${node}: it writes the FDB and neighbour entries of every node's lease (${peer.lease.node}: ${peer.lease.vtepMAC ?? '?'} at ${peer.lease.publicIP})`,
    });
  return found;
}

/** A firewall finding that drops the overlay's encapsulated traffic: UDP to the VXLAN port, on the node itself. */
export function dropsVxlan(f: FirewallFinding, overlay: OverlayLayer | undefined): boolean {
  const port = overlay?.device?.port;
  if (!port || f.protocol !== 'udp' || !f.dports) return false;
  return findingMatches(f, 'udp', port) && f.hook !== 'forward';
}

/** Links larger than the overlay carries: small packets pass, a large one between nodes is dropped or hangs. */
export function overlayMtuProblem(node: string, overlay: OverlayLayer | undefined): string | undefined {
  if (!overlay?.device || !overlay.oversized.length) return undefined;
  const d = overlay.device;
  const links = overlay.oversized.slice(0, 4).map((l) => `${l.link} ${l.mtu}`);
  const more = overlay.oversized.length > 4 ? ` and ${overlay.oversized.length - 4} more` : '';
  const underlay =
    overlay.underlayMtu !== undefined && overlay.underlayMtu - VXLAN_OVERHEAD < d.mtu
      ? `${d.link} (under ${d.name}) has MTU ${overlay.underlayMtu}, so VXLAN carries ${overlay.underlayMtu - VXLAN_OVERHEAD}-byte packets at most (${VXLAN_OVERHEAD} bytes of encapsulation)`
      : `${d.name} has MTU ${d.mtu}`;
  return `MTU ${Math.max(...overlay.oversized.map((l) => l.mtu))} on ${node} (${links.join(', ')}${more}) is larger than the overlay allows: ${underlay}${overlay.subnetEnv ? `; flannel gave the pods FLANNEL_MTU=${overlay.subnetEnv.mtu} (${overlay.subnetFile})` : ''}. Packets between nodes larger than ${overlay.allowedMtu} bytes are lost while small ones pass`;
}
