// Where everything of one local cluster lives: names of its network namespaces and links,
// its addresses, directories and cgroups. Pure: computed from the name and node count,
// so up(), down() and a later cleanup agree without reading any state.
import { join } from 'node:path';
import type { LocalNetwork, Settings } from '../../settings.js';

export const STATE_ROOT = '/var/lib/svc-conformance';
export const RUN_ROOT = '/run/svc-conformance';
export const CGROUP_PARENT = 'svc-conformance';
export const APISERVER_PORT = 6443;
/** Addresses the guard test aims at: nothing of ours is there, and nothing may leave for them. */
export const GUARD_TARGETS = { outsidePrivate: '10.254.254.254', outsidePublic: '198.51.100.77' };

export interface NodeLayout {
  index: number; // 1-based
  name: string;
  netns: string;
  ip: string;
  podCIDR: string;
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
  fabricIP: string; // the nodes' gateway: a sink that rejects all it would route
  hostLink: string; // the host's leg on the node segment
  hostIP: string;
  prefixLength: number;
  guardTable: string; // the host nft table with the uplink counters
  cgroup: string; // the daemons' cgroup, below CGROUP_PARENT
  apiserverURL: string;
  nodes: NodeLayout[];
  /** The run's settings: addresses, images, cache and budgets. */
  settings: Settings;
  network: LocalNetwork;
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;

export function clusterLayout(name: string, nodeCount: number, settings: Settings): ClusterLayout {
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
  const nodes: NodeLayout[] = Array.from({ length: nodeCount }, (_, i) => {
    const index = i + 1;
    const nodeName = `${name}-node-${index}`;
    return {
      index,
      name: nodeName,
      netns: `svc-${name}-n${index}`,
      ip: `${prefix}.${10 + index}`,
      podCIDR: `${podPrefix}.${index}.0/24`,
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
    fabricIP: `${prefix}.1`,
    hostLink: `svc${name}-h`,
    hostIP: `${prefix}.254`,
    prefixLength: Number(bits),
    guardTable: `svc_conformance_${name}`,
    cgroup: `/${CGROUP_PARENT}/${name}/system`,
    apiserverURL: `https://${nodes[0].ip}:${APISERVER_PORT}`,
    nodes,
    settings,
    network: localNetwork,
  };
}
