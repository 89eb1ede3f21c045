// The lines of a node's packet-filter rules that name one address, in kube-proxy's mode: what
// tells "kube-proxy has nothing for this ClusterIP" (no rule, not even the no-endpoints REJECT
// or an entry in its cluster-ips set) from "kube-proxy has rules that send it nowhere".
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { runOnNode } from '../node/run-on-node.js';

/** The rule dump of the node in the cluster's proxy mode, for an address of `family`; undefined in other modes. */
function dumpCommand(mode: string, ipv6: boolean): string[] | undefined {
  if (mode === 'iptables') return [ipv6 ? 'ip6tables-save' : 'iptables-save'];
  if (mode === 'nftables') return ['nft', 'list', 'ruleset'];
  return undefined;
}

/** Why rule lines cannot be read here (a mode without a dump this reads), or undefined. */
export function rulesMentioningSkipReason(cluster: Cluster): string | undefined {
  const mode = cluster.capabilities.proxyMode;
  return dumpCommand(mode, false) ? undefined : `no rule dump read for kube-proxy mode ${mode}`;
}

/** Every rule line on the node that names `address` as a whole address (10.96.0.1 does not match 10.96.0.10). */
export async function rulesMentioning(cluster: Cluster, node: NodeInfo, address: string): Promise<string[]> {
  const command = dumpCommand(cluster.capabilities.proxyMode, address.includes(':'));
  if (!command) return [];
  const dump = (await runOnNode(cluster, node, command)).stdout;
  const escaped = address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const after = address.includes(':') ? '(?![0-9a-fA-F:])' : '(?![0-9])(?!\\.[0-9])';
  const whole = new RegExp(`(?<![0-9a-fA-F.:])${escaped}${after}`);
  return dump
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => whole.test(line));
}
