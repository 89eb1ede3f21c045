// A client outside the cluster, on the nodes' network (the local cluster's fabric
// namespace): what NodePort, externalTrafficPolicy and externalIPs checks send from, so
// that a request arrives at a node the way an outside client's would.
import type { Cluster } from '../cluster/cluster.js';
import { ipv6Net } from '../cluster/local/layout.js';
import { hostInRange } from '../kube/nodes.js';
import { shellFor, type NodeShell } from '../cluster/node-shell.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { parseNeighbours } from '../parse/neighbours.js';
import type { DialResult, FlowResult, Tally } from '../parse/svcprobe.js';
import { runProbe } from './node-probe.js';

/** Why checks from outside the cluster cannot run here; undefined when they can. */
export function externalSkipReason(cluster: ClusterHandle): string | undefined {
  if (!cluster.external)
    return `the ${cluster.provider} provider has no client outside the cluster's nodes to send from`;
  return undefined;
}

/**
 * The address the externalIPs checks give their Service (10.251.0.10 on the local cluster): from
 * the range the provider routes only inside its own namespaces; on a cluster with no external
 * client (yours), from SVC_EXTERNAL_IP_RANGE, in the cluster's first family, which a pod's request
 * reaches only through kube-proxy's rule for it.
 */
export function serviceExternalIP(cluster: Cluster): string {
  const network = cluster.settings.network;
  const range =
    cluster.external?.externalIPRange ??
    (cluster.capabilities.ipFamilies[0] === 'IPv6' ? ipv6Net(network).externalIPRange : network.externalIPRange);
  return hostInRange(range, 10)!;
}

function externalShell(cluster: Cluster): NodeShell {
  const reason = externalSkipReason(cluster);
  if (reason) throw new Error(reason);
  const client = cluster.external!;
  return shellFor(client.shell, `on the external client (${client.address})`, cluster.kubeconfig);
}

/** GETs url `count` times from outside the cluster; each body is tallied. */
export async function externalHttp(cluster: Cluster, url: string, count = 1): Promise<Tally> {
  return externalProbe<Tally>(cluster, ['http', url, `--count=${count}`, `--concurrency=${Math.min(count, 16)}`]);
}

/** `count` datagrams from outside the cluster (netexec answers "hostname" with its pod name); each answer is tallied. */
export async function externalUdp(cluster: Cluster, address: string, count = 1): Promise<Tally> {
  return externalProbe<Tally>(cluster, ['udp', address, `--count=${count}`]);
}

/** A datagram every `intervalMs` from outside, from source port `localPort`: one conntrack flow across calls. */
export function externalUdpFlow(
  cluster: Cluster,
  address: string,
  options: { count: number; intervalMs: number; localPort: number },
): Promise<FlowResult> {
  return externalProbe<FlowResult>(cluster, [
    'udp-flow',
    address,
    `--count=${options.count}`,
    `--interval=${options.intervalMs}ms`,
    `--local-port=${options.localPort}`,
  ]);
}

/** One TCP connection from outside the cluster: how it ended. */
export function externalDial(cluster: Cluster, address: string): Promise<DialResult> {
  return externalProbe<DialResult>(cluster, ['dial', address]);
}

function externalProbe<T>(cluster: Cluster, args: string[]): Promise<T> {
  // The local fabric runs the host's build; a container client (kind, k3s) has the image's own.
  const via = cluster.external?.shell.via ?? 'none';
  return runProbe<T>(externalShell(cluster), via, args, 'on the external client', cluster.settings);
}

/**
 * Routes `address` from the external client to `via` (a node's address), the way a
 * router in front of the cluster would for an externalIP. Returns the undo.
 */
export async function routeFromExternal(cluster: Cluster, address: string, via: string): Promise<() => Promise<void>> {
  const host = `${address}/${address.includes(':') ? 128 : 32}`;
  await externalShell(cluster).run(['ip', 'route', 'replace', host, 'via', via]);
  return async () => {
    await externalShell(cluster).run(['ip', 'route', 'del', host], { allowFailure: true });
  };
}

/** What the outside client's neighbour table says of an address after it was asked for it (ARP or NDP). */
export interface NeighbourAnswer {
  /** The link-layer address that answered; absent when nobody did. */
  lladdr?: string;
  /** The entry's states (REACHABLE, STALE, FAILED, INCOMPLETE), or none when there is no entry. */
  state: string[];
}

/**
 * Asks the nodes' segment who has `address`, from the outside client: its neighbour entry is
 * flushed, one connection to `address`:`port` makes the kernel ask again, and the entry is read.
 */
export async function externalNeighbour(cluster: Cluster, address: string, port: number): Promise<NeighbourAnswer> {
  const shell = externalShell(cluster);
  await shell.run(['ip', 'neigh', 'flush', 'to', address], { allowFailure: true });
  await externalDial(cluster, `${address.includes(':') ? `[${address}]` : address}:${port}`);
  // Text, not -j: the kind and k3s outside client's `ip` is busybox's.
  const shown = await shell.run(['ip', 'neigh', 'show', 'to', address], { allowFailure: true });
  const entry = parseNeighbours(shown.stdout)[0];
  return { lladdr: entry?.lladdr, state: entry?.state ?? [] };
}
