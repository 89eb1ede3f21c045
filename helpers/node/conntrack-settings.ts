// What a node does with TCP conntrack on kube-proxy's behalf: whether an out-of-window packet
// (conntrack state INVALID, so never un-NATed) is dropped before it reaches a pod, or conntrack is
// liberal and never marks it so; and the CLOSE_WAIT timeout kube-proxy was told to set.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { Kube } from '../kube/client.js';
import { invalidForwarding } from '../parse/conntrack-invalid.js';
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
  /** iptables: a rule that accepts INVALID packets before they meet that drop (so nothing drops them). */
  acceptRule?: string;
}

/** Whether the node lets an INVALID packet through un-NATed, in words, or undefined when it does not. */
export function invalidExposure(n: InvalidHandling): string | undefined {
  if (n.liberal) return undefined;
  if (n.acceptRule)
    return `${n.node}: ${n.acceptRule} accepts ct state INVALID before ${n.dropRule ? `kube-proxy's ${n.dropRule}` : "kube-proxy's drop"} sees it, and nf_conntrack_tcp_be_liberal is 0`;
  if (!n.dropRule) return `${n.node}: no rule drops ct state INVALID, and nf_conntrack_tcp_be_liberal is 0`;
  return undefined;
}

/** How the node keeps an INVALID packet from reaching a pod un-NATed, in kube-proxy's mode. */
export async function invalidHandling(cluster: Cluster, node: NodeInfo): Promise<InvalidHandling> {
  const liberal = (await runOnNode(cluster, node, ['cat', LIBERAL], { allowFailure: true })).stdout.trim() === '1';
  const nft = cluster.capabilities.proxyMode === 'nftables';
  const listed = await runOnNode(cluster, node, nft ? ['nft', 'list', 'ruleset'] : ['iptables-save', '-t', 'filter'], {
    allowFailure: true,
  });
  if (nft) {
    const dropRule = listed.stdout
      .split('\n')
      .map((line) => line.trim())
      .find((line) => /ct state invalid .*drop/.test(line));
    return { node: node.name, liberal, dropRule };
  }
  // iptables: the walk of FORWARD an INVALID packet between pods takes, to kube-proxy's drop or to an accept before it.
  const nodes = await new Kube(cluster.kubeconfig).core.listNode();
  const podCIDRs = nodes.items.flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []));
  const walk = invalidForwarding(listed.stdout, podCIDRs);
  return {
    node: node.name,
    liberal,
    dropRule: walk.dropRule ?? walk.bypassedDrop,
    ...(walk.acceptRule && { acceptRule: walk.acceptRule }),
  };
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
