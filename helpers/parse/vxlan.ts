// A VXLAN overlay as a node sees it, from iproute2's JSON output (flannel's flannel.1 here):
//   ip -d -j link show dev flannel.1   the device: VNI, UDP port, local VTEP address, underlay link, MTU
//   bridge -j fdb show dev flannel.1   where each remote VTEP MAC is sent: [{"mac": "aa:…", "dst": "10.238.0.12", …}]
//   ip -j neigh show dev flannel.1     each remote subnet's gateway → its VTEP MAC: [{"dst": "10.226.2.0", "lladdr": "aa:…"}]
// and flannel's lease of each node, from the Node's annotations (the kube subnet manager's store).

export interface VxlanDevice {
  name: string;
  mtu: number;
  /** Administratively up (UP among the flags). */
  up: boolean;
  /** The device's own MAC: the VTEP MAC other nodes must have in their FDB and neighbour tables. */
  mac?: string;
  vni?: number;
  /** The UDP port it sends to and listens on (flannel: 8472). */
  port?: number;
  /** The address encapsulated packets leave from. */
  local?: string;
  /** The underlay link (eth0). */
  link?: string;
}

export interface FdbEntry {
  mac: string;
  /** The remote VTEP's underlay address; absent on the device's own entries. */
  dst?: string;
}

export interface NeighbourEntry {
  dst: string;
  lladdr?: string;
  state: string[];
}

/** flannel's lease of one node: its subnet and how to reach its VTEP. */
export interface FlannelLease {
  node: string;
  podCIDR: string;
  backendType: string;
  publicIP: string;
  vtepMAC?: string;
  vni?: number;
}

interface LinkJson {
  ifname: string;
  mtu: number;
  flags?: string[];
  address?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; link?: string } };
}

// Why: the overlay's own device — missing (flanneld never ran, or the node restarted), down, or at an MTU the pods exceed.
export function parseVxlanLink(json: string): VxlanDevice | undefined {
  const link = (JSON.parse(json || '[]') as LinkJson[]).find((l) => l.linkinfo?.info_kind === 'vxlan');
  if (!link) return undefined;
  const data = link.linkinfo?.info_data ?? {};
  return {
    name: link.ifname,
    mtu: link.mtu,
    up: (link.flags ?? []).includes('UP'),
    mac: link.address,
    vni: data.id,
    port: data.port,
    local: data.local,
    link: data.link,
  };
}

// Why: a remote VTEP MAC the FDB sends nowhere (or to an old address) blackholes that node's subnet.
export function parseFdb(json: string): FdbEntry[] {
  return (JSON.parse(json || '[]') as { mac: string; dst?: string }[]).map((e) => ({ mac: e.mac, dst: e.dst }));
}

// Why: without the neighbour entry of a remote subnet's gateway the kernel cannot address its VTEP.
export function parseNeighbours(json: string): NeighbourEntry[] {
  return (JSON.parse(json || '[]') as { dst: string; lladdr?: string; state?: string[] }[]).map((e) => ({
    dst: e.dst,
    lladdr: e.lladdr,
    state: e.state ?? [],
  }));
}

const PREFIX = 'flannel.alpha.coreos.com';

// Why: the kube subnet manager keeps each node's lease in its Node object; every other node's flanneld builds its routes, FDB and neighbours from it.
export function flannelLease(node: {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { podCIDR?: string };
}): FlannelLease | undefined {
  const a = node.metadata?.annotations ?? {};
  const publicIP = a[`${PREFIX}/public-ip`];
  if (!publicIP || !node.metadata?.name) return undefined;
  let backend: { VNI?: number; VtepMAC?: string } = {};
  try {
    backend = JSON.parse(a[`${PREFIX}/backend-data`] ?? '{}') as typeof backend;
  } catch {
    // an unreadable backend-data is a lease without a VTEP: the checks then name it
  }
  return {
    node: node.metadata.name,
    podCIDR: node.spec?.podCIDR ?? '',
    backendType: a[`${PREFIX}/backend-type`] ?? '',
    publicIP,
    vtepMAC: backend.VtepMAC,
    vni: backend.VNI,
  };
}
