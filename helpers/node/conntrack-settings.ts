// What a node does with TCP conntrack on kube-proxy's behalf: whether an out-of-window packet
// (conntrack state INVALID, so never un-NATed) is dropped before it reaches a pod, or conntrack is
// liberal and never marks it so; and the CLOSE_WAIT timeout kube-proxy was told to set.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { kubeProxyEndpoints } from './kube-proxy.js';
import { nodeHttp } from './node-probe.js';
import { runOnNode } from './run-on-node.js';

const LIBERAL = '/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal';
export const CLOSE_WAIT_SYSCTL = '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait';

/** kube-proxy's own default for conntrack.tcpCloseWaitTimeout (1h): what upstream's test expects. */
export const DEFAULT_CLOSE_WAIT_SECONDS = 3600;

export interface InvalidHandling {
  node: string;
  /** nf_conntrack_tcp_be_liberal is 1: out-of-window packets are not marked INVALID. */
  liberal: boolean;
  /** kube-proxy's rule dropping ct state INVALID, as the node lists it; undefined when none. */
  dropRule?: string;
}

/** How the node keeps an INVALID packet from reaching a pod un-NATed, in kube-proxy's mode. */
export async function invalidHandling(cluster: Cluster, node: NodeInfo): Promise<InvalidHandling> {
  const liberal = (await runOnNode(cluster, node, ['cat', LIBERAL], { allowFailure: true })).stdout.trim() === '1';
  const nft = cluster.capabilities.proxyMode === 'nftables';
  const listed = await runOnNode(cluster, node, nft ? ['nft', 'list', 'ruleset'] : ['iptables-save', '-t', 'filter'], {
    allowFailure: true,
  });
  const drop = nft ? /ct state invalid .*drop/ : /^-A KUBE-FORWARD .*--ctstate INVALID .*-j DROP/;
  const dropRule = listed.stdout
    .split('\n')
    .map((line) => line.trim())
    .find((line) => drop.test(line));
  return { node: node.name, liberal, dropRule };
}

/** "1h0m0s" → 3600: a Go duration as kube-proxy's /configz prints it. */
export function goDurationSeconds(text: string): number {
  const part = (unit: string) => Number(new RegExp(`([\\d.]+)${unit}(?![a-z])`).exec(text)?.[1] ?? 0);
  return part('h') * 3600 + part('m') * 60 + part('s');
}

/** kube-proxy's conntrack.tcpCloseWaitTimeout on the node (seconds; 0: leave the sysctl alone), from its /configz. */
export async function configuredCloseWait(cluster: Cluster, node: NodeInfo): Promise<number | undefined> {
  const tally = await nodeHttp(cluster, node, `${kubeProxyEndpoints(node).metrics}/configz`);
  const body = Object.keys(tally.answers)[0];
  if (!body) return undefined;
  const config = JSON.parse(body) as Record<string, { conntrack?: { tcpCloseWaitTimeout?: string } }>;
  const timeout = Object.values(config)[0]?.conntrack?.tcpCloseWaitTimeout;
  return timeout === undefined ? undefined : goDurationSeconds(timeout);
}
