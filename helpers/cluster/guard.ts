// The network guard, as the specs see it: the addresses nothing of ours owns, and the
// counters that show where a packet for them died. Clusters whose network this project
// built have them: the local provider's fabric and uplink table, and for kind and k3s the
// host table around their Docker network (setup/kind/network.sh).
import { run } from '../host/run.js';
import type { Cluster } from './cluster.js';
import { formatAddress, parseAddressRange } from '../parse/cidr.js';
import { parseNeighbours } from '../parse/neighbours.js';
import { parseRoutes } from '../parse/routes.js';
import { clusterLayout, GUARD_TARGETS, GUARD_TARGETS_6, type IpFamily } from './local/layout.js';
import { readGuardCounters } from './local/network.js';
import { nodeShell } from './node-shell.js';
import type { ClusterHandle, NodeInfo } from './provider.js';

export { GUARD_TARGETS, GUARD_TARGETS_6 };

/** The addresses the guard test aims at in one family. */
export function guardTargets(family: IpFamily): { outsidePrivate: string; outsidePublic: string } {
  return family === 'IPv4' ? GUARD_TARGETS : GUARD_TARGETS_6;
}

/** The local cluster's Service range of one family (the one the guard test takes an unowned address from). */
export function localServiceRange(cluster: Cluster, family: IpFamily): string {
  return clusterLayout(cluster.name, cluster.nodes.length, cluster.settings).nets[family].serviceCIDR;
}

export interface GuardCounters {
  /** Packets the cluster's fabric refused to route anywhere (it then answers ICMP unreachable). */
  fabricRejected: number;
  /** Packets of the cluster's addresses stopped at this machine's uplink: must stay 0. */
  uplinkStopped: number;
  /**
   * VXLAN packets (UDP 8472, a flannel overlay) bridged between two nodes on their segment, and routed off it
   * (which the fabric then rejects). The local provider only, on a cluster made since these counters exist.
   */
  vxlan?: { onSegment: number; offSegment: number };
}

export async function readGuard(cluster: Cluster): Promise<GuardCounters | undefined> {
  const guard = cluster.guard;
  if (guard?.kind === 'local-fabric') {
    return readGuardCounters(clusterLayout(cluster.name, cluster.nodes.length, cluster.settings));
  }
  if (guard?.kind === 'host-table') {
    const table = await run('nft', ['-j', 'list', 'table', 'inet', guard.table], { allowFailure: true });
    if (table.exitCode !== 0) {
      throw new Error(
        `the kind network's guard (nft table inet ${guard.table}) is missing: run setup/kind/network.sh (npm run setup -- --kind) before using kind or k3s`,
      );
    }
    return hostTableCounters(table.stdout);
  }
  return undefined;
}

/** Why guard checks cannot run on this cluster; undefined when they can. */
export function guardSkipReason(cluster: ClusterHandle): string | undefined {
  return cluster.guard
    ? undefined
    : `the ${cluster.provider} provider's network is not this project's: it has no guard of ours to check`;
}

/**
 * The kind guard's counters from `nft -j list table inet svc_conformance_kind`: packets
 * from the bridge bound off the kind network (prerouting) or routed elsewhere (forward),
 * dropped; and packets with a kind address leaving through any other interface
 * (postrouting, both families), which must not grow while a cluster runs.
 */
export function hostTableCounters(nftJson: string): GuardCounters {
  const doc = JSON.parse(nftJson) as {
    nftables: { rule?: { chain: string; expr: { counter?: { packets: number } }[] } }[];
  };
  const packets = (chain: string) =>
    doc.nftables
      .flatMap((o) => (o.rule?.chain === chain ? o.rule.expr : []))
      .reduce((n, e) => n + (e.counter?.packets ?? 0), 0);
  return { fabricRejected: packets('prerouting') + packets('forward'), uplinkStopped: packets('postrouting') };
}

/** An address in the Service range that no Service owns: the range's last usable address. */
export function unownedServiceIP(serviceCIDR: string): string {
  const range = parseAddressRange(serviceCIDR);
  if (!range) throw new Error(`not an address range: ${serviceCIDR}`);
  return formatAddress(range.family, range.last - 1n);
}

/** The pool of one family of the LoadBalancer implementation our provider installed; undefined when none. */
export function loadBalancerPool(cluster: ClusterHandle, family: IpFamily): string | undefined {
  const external = cluster.external;
  const pools = external?.loadBalancerIPRanges ?? (external?.loadBalancerIPRange ? [external.loadBalancerIPRange] : []);
  return pools.find((pool) => pool.includes(':') === (family === 'IPv6'));
}

/**
 * Whether dials to `address`, a LoadBalancer address no Service holds, provably stopped on this machine, with what
 * showed it. The local fabric rejects (and counts) what it would route, and the host routes the pool nowhere. On the
 * kind network the pool is on the nodes' segment: the host routes it onto the link its nodes are on, and `node` has
 * it on-link (no gateway) and asked the segment for it, which nobody answered.
 */
export async function unheldLoadBalancerAddressStayed(
  cluster: Cluster,
  node: NodeInfo,
  address: string,
  before: GuardCounters,
  after: GuardCounters,
): Promise<{ stayed: boolean; seen: string }> {
  const hostRoute = await routeTo(address);
  if (cluster.guard?.kind === 'local-fabric') {
    const counted = after.fabricRejected > before.fabricRejected;
    const unrouted = hostRoute.failed || /unreachable/.test(hostRoute.line);
    return {
      stayed: counted && unrouted,
      seen: `the fabric rejected ${before.fabricRejected} → ${after.fabricRejected} packets; the host: ${hostRoute.line}`,
    };
  }
  const nodeRoute = await routeTo(node.internalIP);
  const onNodesLink = !hostRoute.failed && !hostRoute.via && hostRoute.dev === nodeRoute.dev;
  let seen = `the host: ${hostRoute.line} (its nodes' link: ${nodeRoute.dev ?? nodeRoute.line})`;
  if (!node.shell) return { stayed: onNodesLink, seen };
  const shell = nodeShell(cluster, node);
  const fromNode = parseRoute(await shell.run(['ip', 'route', 'get', address], { allowFailure: true }));
  const shown = await shell.run(['ip', 'neigh', 'show', 'to', address], { allowFailure: true });
  const states = parseNeighbours(shown.stdout).flatMap((n) => n.state);
  const asked = !fromNode.failed && !fromNode.via && states.some((s) => s === 'FAILED' || s === 'INCOMPLETE');
  const unanswered = !states.some((s) => ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT'].includes(s));
  seen += `; ${node.name}: ${fromNode.line}, neighbour entry ${states.join(',') || 'none'}`;
  return { stayed: onNodesLink && asked && unanswered, seen };
}

interface Route {
  line: string;
  failed: boolean;
  dev?: string;
  via?: string;
}

/** The route this machine would take to `address` (`ip route get`). */
async function routeTo(address: string): Promise<Route> {
  return parseRoute(await run('ip', ['route', 'get', address], { allowFailure: true }));
}

/** `ip route get`'s first line (the route; a second says `cache`), or its error. */
function parseRoute(result: { exitCode: number; stdout: string; stderr: string }): Route {
  const line = (result.exitCode === 0 ? result.stdout : result.stderr).trim().split('\n')[0].trim();
  const route = result.exitCode === 0 ? parseRoutes(line)[0] : undefined;
  return { line, failed: !route, dev: route?.dev, via: route?.via };
}
