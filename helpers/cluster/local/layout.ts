// Where everything of one local cluster lives: names of its network namespaces and links,
// its addresses, directories and cgroups. Pure: computed from the name and node count,
// so up(), down() and a later cleanup agree without reading any state.
import { join } from 'node:path';
import { hostPort } from '../../address.js';
import { addressInRange, canonicalIPv6 } from '../../parse/cidr.js';
import type { IpFamilyChoice, LocalNetwork, Settings } from '../../settings.js';

export const STATE_ROOT = '/var/lib/svc-conformance';
export const RUN_ROOT = '/run/svc-conformance';
export const CGROUP_PARENT = 'svc-conformance';
export const APISERVER_PORT = 6443;
/** Addresses the guard test aims at: nothing of ours is there, and nothing may leave for them. */
export const GUARD_TARGETS = { outsidePrivate: '10.254.254.254', outsidePublic: '198.51.100.77' };
/** The same for IPv6: a unique-local address outside every derived range, and one of the documentation prefix. */
export const GUARD_TARGETS_6 = { outsidePrivate: 'fd00:254:254::254', outsidePublic: '2001:db8::77' };

export type IpFamily = 'IPv4' | 'IPv6';

/** One address family of the cluster's network: the node segment, and the ranges Kubernetes uses. */
export interface FamilyNet {
  family: IpFamily;
  nodeSubnet: string;
  prefixLength: number;
  /** The nodes' gateway: the fabric, a sink that rejects all it would route. */
  fabricIP: string;
  /** The host's address on its leg of the node segment. */
  hostIP: string;
  podCIDR: string;
  serviceCIDR: string;
  dnsIP: string;
  externalIPRange: string;
  /** The MetalLB pool: announced by the nodes on their segment, routed by nothing. */
  loadBalancerIPRange: string;
}

export interface NodeLayout {
  index: number; // 1-based
  name: string;
  netns: string;
  /** The node's own UTS namespace (a bind mount of it), whose hostname is the node's name. */
  uts: string;
  /** The node's IPv4 address (always on its link, even when Kubernetes serves IPv6 only). */
  ip: string;
  podCIDR: string;
  /** Per family: the node's address and pod range. */
  addrs: Record<IpFamily, string>;
  podCIDRs: Record<IpFamily, string>;
  bridgePort: string; // the node's link name on the fabric bridge
  stateDir: string;
  runDir: string;
  cgroup: string; // kubelet's cgroupRoot for this node's pods
}

export interface ClusterLayout {
  name: string;
  stateDir: string;
  runDir: string;
  pkiDir: string;
  logDir: string;
  kubeconfig: string;
  fabricNetns: string;
  hostLink: string; // the host's leg on the node segment
  guardTable: string; // the host nft table with the uplink counters
  cgroup: string; // the daemons' cgroup, below CGROUP_PARENT
  apiserverURL: string;
  nodes: NodeLayout[];
  /** The run's settings: addresses, images, cache and budgets. */
  settings: Settings;
  network: LocalNetwork;
  /** What Kubernetes serves, primary family first (--ip-family). */
  families: IpFamily[];
  /** Every family's network, whether the cluster uses it or not (down() removes both). */
  nets: Record<IpFamily, FamilyNet>;
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;

/** The networks Kubernetes uses, primary family first. */
export const familyNets = (layout: ClusterLayout): FamilyNet[] => layout.families.map((f) => layout.nets[f]);

/** The primary family's network: where the API server, kube-dns and the external client are addressed. */
export const primaryNet = (layout: ClusterLayout): FamilyNet => layout.nets[layout.families[0]];

export const FAMILIES_OF: Record<IpFamilyChoice, IpFamily[]> = {
  ipv4: ['IPv4'],
  ipv6: ['IPv6'],
  dual: ['IPv4', 'IPv6'],
};

/**
 * A local cluster's IPv6 ranges, derived from its IPv4 ones so that two clusters apart in
 * IPv4 are apart in IPv6 too: a.b.c.d/n ↦ fd00:a:b:c::/len (unique-local addresses, which no
 * router beyond a site forwards). Pods: fd00:a:b::/56, node i's fd00:a:b:i::/64.
 */
export function ipv6Net(network: LocalNetwork): FamilyNet {
  const octets = (range: string) => range.split('/')[0].split('.');
  const of = (range: string, tail: string, bits: number) => {
    const [a, b, c] = octets(range);
    return `${canonicalIPv6(`fd00:${a}:${b}:${c}::${tail}`)}${bits ? `/${bits}` : ''}`;
  };
  const [pa, pb] = octets(network.podCIDR);
  return {
    family: 'IPv6',
    nodeSubnet: of(network.nodeSubnet, '', 64),
    prefixLength: 64,
    fabricIP: of(network.nodeSubnet, '1', 0),
    hostIP: of(network.nodeSubnet, 'fe', 0),
    podCIDR: `${canonicalIPv6(`fd00:${pa}:${pb}::`)}/56`,
    serviceCIDR: of(network.serviceCIDR, '', 112),
    dnsIP: of(network.serviceCIDR, 'a', 0),
    externalIPRange: of(network.externalIPRange, '', 112),
    loadBalancerIPRange: of(network.loadBalancerIPRange, '', 112),
  };
}

export function clusterLayout(
  name: string,
  nodeCount: number,
  settings: Settings,
  ipFamily: IpFamilyChoice = 'ipv4',
): ClusterLayout {
  const localNetwork = settings.network;
  if (!NAME.test(name)) {
    throw new Error(
      `cluster name "${name}" must be 1-8 lowercase letters or digits, starting with a letter (it names network links)`,
    );
  }
  const [base, bits] = localNetwork.nodeSubnet.split('/');
  const prefix = base.split('.').slice(0, 3).join('.');
  const podPrefix = localNetwork.podCIDR.split('.').slice(0, 2).join('.');
  const stateDir = join(STATE_ROOT, name);
  const runDir = join(RUN_ROOT, name);
  const v6 = ipv6Net(localNetwork);
  const nets: Record<IpFamily, FamilyNet> = {
    IPv4: {
      family: 'IPv4',
      nodeSubnet: localNetwork.nodeSubnet,
      prefixLength: Number(bits),
      fabricIP: `${prefix}.1`,
      hostIP: `${prefix}.254`,
      podCIDR: localNetwork.podCIDR,
      serviceCIDR: localNetwork.serviceCIDR,
      dnsIP: localNetwork.dnsIP,
      externalIPRange: localNetwork.externalIPRange,
      loadBalancerIPRange: localNetwork.loadBalancerIPRange,
    },
    IPv6: v6,
  };
  const v6Base = v6.podCIDR.split('::')[0];
  const nodes: NodeLayout[] = Array.from({ length: nodeCount }, (_, i) => {
    const index = i + 1;
    const nodeName = `${name}-node-${index}`;
    const ip = `${prefix}.${10 + index}`;
    const podCIDR = `${podPrefix}.${index}.0/24`;
    const ip6 = addressInRange(v6.nodeSubnet, 0x10 + index)!; // fd00:a:b:c::11 for node 1, as IPv4's .11
    const podCIDR6 = `${canonicalIPv6(`${v6Base}:${index}::`)}/64`;
    return {
      index,
      name: nodeName,
      netns: `svc-${name}-n${index}`,
      uts: join(runDir, nodeName, 'uts'),
      ip,
      podCIDR,
      addrs: { IPv4: ip, IPv6: ip6 },
      podCIDRs: { IPv4: podCIDR, IPv6: podCIDR6 },
      bridgePort: `n${index}`,
      stateDir: join(stateDir, nodeName),
      runDir: join(runDir, nodeName),
      cgroup: `/${CGROUP_PARENT}/${name}/pods-${index}`,
    };
  });
  return {
    name,
    stateDir,
    runDir,
    pkiDir: join(stateDir, 'pki'),
    logDir: join(stateDir, 'logs'),
    kubeconfig: join(stateDir, 'kubeconfig'),
    fabricNetns: `svc-${name}-fabric`,
    hostLink: `svc${name}-h`,
    guardTable: `svc_conformance_${name}`,
    cgroup: `/${CGROUP_PARENT}/${name}/system`,
    apiserverURL: `https://${hostPort(nodes[0].addrs[FAMILIES_OF[ipFamily][0]], APISERVER_PORT)}`,
    nodes,
    settings,
    network: localNetwork,
    families: FAMILIES_OF[ipFamily],
    nets,
  };
}
