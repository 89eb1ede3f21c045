// Reads kube-proxy's rules for one Service port on a node, in whichever mode the node
// runs: iptables-save, `nft -j list ruleset`, or `ipvsadm -Ln`, through the parsers.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import {
  kubeProxyIptablesFrontends,
  kubeProxyIptablesRules,
  parseIptablesSave,
  type IptablesFrontends,
  type IptablesServiceRules,
  type ServicePortRef,
} from '../parse/iptables-save.js';
import { parseIpvsadm, type IpvsVirtualServer } from '../parse/ipvsadm.js';
import { ipvsDestinations } from './ipvs-service.js';
import {
  kubeProxyNftFrontends,
  kubeProxyNftRules,
  type NftServicePortRef,
  type NftServiceRules,
} from '../parse/nft.js';
import { waitFor } from '../kube/wait.js';
import { familyOf } from '../address.js';
import type { IpFamily } from '../cluster/families.js';
import { runOnNode } from './run-on-node.js';

/** `family`: read only that family's rules (ip6tables for IPv6); else the cluster's families, primary first. */
export async function iptablesRulesOnNode(
  cluster: Cluster,
  node: NodeInfo,
  service: ServicePortRef,
  family?: IpFamily,
): Promise<IptablesServiceRules | undefined> {
  for (const save of family ? [IPTABLES_SAVE[family]] : iptablesSavers(cluster)) {
    const rules = kubeProxyIptablesRules(parseIptablesSave((await runOnNode(cluster, node, [save])).stdout), service);
    if (rules) return rules;
  }
  return undefined;
}

const IPTABLES_SAVE: Record<IpFamily, string> = { IPv4: 'iptables-save', IPv6: 'ip6tables-save' };

/** iptables-save, and ip6tables-save where the cluster serves IPv6 (first when IPv6 is its primary family). */
function iptablesSavers(cluster: Cluster): string[] {
  return cluster.capabilities.ipFamilies.map((family) => IPTABLES_SAVE[family]);
}

/** The nftables family of kube-proxy's table for an address family. */
const NFT_FAMILY: Record<IpFamily, 'ip' | 'ip6'> = { IPv4: 'ip', IPv6: 'ip6' };

export async function nftRulesOnNode(
  cluster: Cluster,
  node: NodeInfo,
  service: NftServicePortRef,
): Promise<NftServiceRules | undefined> {
  const ruleset = JSON.parse((await runOnNode(cluster, node, ['nft', '-j', 'list', 'ruleset'])).stdout) as unknown;
  return kubeProxyNftRules(ruleset, service);
}

/** The node's IPVS table as `ipvsadm -Ln` prints it (numeric addresses and ports). */
export async function ipvsadmOnNode(cluster: Cluster, node: NodeInfo): Promise<string> {
  return (await runOnNode(cluster, node, ['ipvsadm', '-Ln'])).stdout;
}

export async function ipvsVirtualServerOnNode(
  cluster: Cluster,
  node: NodeInfo,
  clusterIP: string,
  port: number,
): Promise<IpvsVirtualServer | undefined> {
  const servers = parseIpvsadm(await ipvsadmOnNode(cluster, node));
  return servers.find((s) => s.address === clusterIP && s.port === port);
}

/**
 * The DNAT targets kube-proxy programmed for a Service port on a node, in its mode (the cluster's,
 * or as kube-proxy reported it); undefined when the mode is unknown. Read in the family of
 * `clusterIP`: a dual-stack Service has rules in each family's table, one ClusterIP each.
 */
export async function programmedDestinations(
  cluster: Cluster,
  node: NodeInfo,
  service: NftServicePortRef & { clusterIP: string; port: number },
  mode: string = cluster.capabilities.proxyMode,
): Promise<string[] | undefined> {
  switch (mode) {
    case 'iptables':
      return sendsTo((await iptablesRulesOnNode(cluster, node, service, familyOf(service.clusterIP)))?.endpoints);
    case 'nftables':
      return sendsTo(
        (await nftRulesOnNode(cluster, node, { ...service, family: NFT_FAMILY[familyOf(service.clusterIP)] }))
          ?.endpoints,
      );
    case 'ipvs':
      return ipvsDestinations(await ipvsVirtualServerOnNode(cluster, node, service.clusterIP, service.port));
    default:
      return undefined;
  }
}

/**
 * How a Service port is reached from outside on a node — NodePorts, externalIPs, and
 * whether that path masquerades — in the node's mode; undefined in a mode without a parser here (ipvs).
 */
export async function programmedFrontends(
  cluster: Cluster,
  node: NodeInfo,
  service: NftServicePortRef,
): Promise<IptablesFrontends | undefined> {
  switch (cluster.capabilities.proxyMode) {
    case 'iptables': {
      let frontends: IptablesFrontends | undefined;
      for (const save of iptablesSavers(cluster)) {
        frontends = kubeProxyIptablesFrontends(
          parseIptablesSave((await runOnNode(cluster, node, [save, '-t', 'nat'])).stdout),
          service,
        );
        if (frontends.nodePorts.length || frontends.externalIPs.length || frontends.loadBalancerIPs.length) break;
      }
      return frontends;
    }
    case 'nftables':
      return kubeProxyNftFrontends(
        JSON.parse((await runOnNode(cluster, node, ['nft', '-j', 'list', 'ruleset'])).stdout) as unknown,
        service,
      );
    default:
      return undefined;
  }
}

/** Where endpoint chains send traffic; a chain whose DNAT is gone sends nowhere and is left out. */
function sendsTo(endpoints: { destination: string }[] | undefined): string[] {
  return (endpoints ?? [])
    .map((e) => e.destination)
    .filter(Boolean)
    .sort();
}

/**
 * Waits until kube-proxy on every node has written rules sending the Service port to
 * exactly these destinations ("10.244.1.3:9376"): the Service is programmed, not just listed.
 */
export async function waitForProgrammedService(
  cluster: Cluster,
  service: NftServicePortRef & { clusterIP: string; port: number },
  destinations: string[],
  budgetMs: number,
): Promise<void> {
  const want = [...destinations].sort().join(', ');
  await Promise.all(
    cluster.nodes.map((node) =>
      waitFor(
        `kube-proxy rules on ${node.name} sending ${service.namespace}/${service.name} to ${want}`,
        budgetMs,
        async () => {
          const seen = await programmedDestinations(cluster, node, service);
          return {
            done: seen === undefined || seen.join(', ') === want,
            seen: seen?.join(', ') || 'no rules for the Service',
          };
        },
      ),
    ),
  );
}
