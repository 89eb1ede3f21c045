// kube-proxy's rules for one Service port on a node, held against what the Service asks for:
// every ready endpoint and no other (only this node's with internalTrafficPolicy Local), session
// affinity and its timeout, externalTrafficPolicy Local (no masquerade; a drop on a node without a
// local endpoint), and for UDP, conntrack entries still sending to an endpoint that is gone.
// readServiceRules reads the node; the rest is pure and tests on recorded rules (proxy-spec.test.ts).
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import type { EndpointAddress } from '../kube/services.js';
import { runOnNode } from '../node/run-on-node.js';
import type { ConntrackEntry } from '../parse/conntrack.js';
import {
  kubeProxyIptablesFrontends,
  kubeProxyIptablesRules,
  parseIptablesSave,
  type ServicePortRef,
} from '../parse/iptables-save.js';
import { kubeProxyNftFrontends, kubeProxyNftRules } from '../parse/nft.js';
import type { GuideSection } from './guide.js';

/** One Service port's rules on a node, in either mode, as the comparison needs them. */
export interface ServiceRules {
  mode: 'iptables' | 'nftables';
  /** The chain the ClusterIP goes to (KUBE-SVC-…/KUBE-SVL-…, or service-…). */
  serviceChain?: string;
  /** DNAT targets of the endpoint chains, "10.244.1.3:9376". */
  endpoints: string[];
  affinitySeconds?: number;
  nodePorts: number[];
  externalChain?: string;
  masqueradesExternal: boolean;
  dropsWithoutLocalEndpoints: boolean;
  /** A Service without endpoints is rejected (iptables filter "has no endpoints" REJECT); undefined where not read (nftables). */
  rejectsWithoutEndpoints?: boolean;
}

/** A rule of the Service that kube-proxy wrote wrong, or did not write, on one node. */
export interface RuleProblem {
  node: string;
  /** The feature it breaks, as the guide's section that tests it. */
  section: GuideSection;
  problem: string;
}

/** Reads the Service port's rules from one dump of the node's ruleset; undefined in another mode or without rules. */
export async function readServiceRules(
  cluster: Cluster,
  node: NodeInfo,
  ref: ServicePortRef & { protocol?: string },
): Promise<ServiceRules | undefined> {
  const mode = cluster.capabilities.proxyMode;
  if (mode === 'iptables') {
    const save = cluster.capabilities.ipFamilies[0] === 'IPv6' ? 'ip6tables-save' : 'iptables-save';
    return iptablesServiceRules((await runOnNode(cluster, node, [save])).stdout, ref);
  }
  if (mode === 'nftables')
    return nftServiceRules((await runOnNode(cluster, node, ['nft', '-j', 'list', 'ruleset'])).stdout, ref);
  return undefined;
}

export function iptablesServiceRules(save: string, ref: ServicePortRef): ServiceRules | undefined {
  const dump = parseIptablesSave(save);
  const rules = kubeProxyIptablesRules(dump, ref);
  if (!rules) return undefined;
  return {
    ...serviceRules('iptables', rules.svcChain, rules, kubeProxyIptablesFrontends(dump, ref)),
    rejectsWithoutEndpoints: rules.serviceJumps.some(
      (rule) => rule.target === 'REJECT' && !!rule.comment?.endsWith(' has no endpoints'),
    ),
  };
}

export function nftServiceRules(json: string, ref: ServicePortRef & { protocol?: string }): ServiceRules | undefined {
  const ruleset = JSON.parse(json) as unknown;
  const rules = kubeProxyNftRules(ruleset, ref);
  if (!rules) return undefined;
  return serviceRules('nftables', rules.serviceChain, rules, kubeProxyNftFrontends(ruleset, ref));
}

/** What both modes' parsers give, in the comparison's terms. */
function serviceRules(
  mode: ServiceRules['mode'],
  serviceChain: string | undefined,
  rules: { endpoints: { destination?: string }[]; affinitySeconds?: number },
  front: {
    nodePorts: { port: number }[];
    externalChain?: string;
    masqueradesExternal: boolean;
    dropsWithoutLocalEndpoints: boolean;
  },
): ServiceRules {
  return {
    mode,
    serviceChain,
    endpoints: rules.endpoints.map((e) => e.destination).filter((d): d is string => !!d),
    affinitySeconds: rules.affinitySeconds,
    nodePorts: front.nodePorts.map((p) => p.port),
    externalChain: front.externalChain,
    masqueradesExternal: front.masqueradesExternal,
    dropsWithoutLocalEndpoints: front.dropsWithoutLocalEndpoints,
  };
}

/**
 * The endpoints a node's rules must send the Service to: the ready ones, only its own with
 * internalTrafficPolicy Local; where the EndpointSlice controller wrote topology hints, those for
 * the node when every ready endpoint has a node hint and one names it (PreferSameNode), else those
 * for its zone when every ready endpoint has a zone hint and one names it (PreferClose,
 * PreferSameZone, topology-mode Auto), as kube-proxy chooses (pkg/proxy/topology.go).
 */
export function expectedEndpoints(
  spec: k8s.V1ServiceSpec | undefined,
  node: string,
  slices: EndpointAddress[],
  zone?: string,
): string[] {
  const ready = slices.filter((e) => e.ready);
  if (spec?.internalTrafficPolicy === 'Local') return ready.filter((e) => e.node === node).map((e) => e.address);
  return topologyChoice(ready, node, zone).endpoints.map((e) => e.address);
}

/** Which ready endpoints kube-proxy keeps for a node by their hints, and why ('' when the hints do not apply). */
export function topologyChoice(
  ready: EndpointAddress[],
  node: string,
  zone: string | undefined,
): { endpoints: EndpointAddress[]; by: string } {
  const usable = (hints: (e: EndpointAddress) => string[] | undefined, want: string | undefined) =>
    !!want && ready.length > 0 && ready.every((e) => hints(e)?.length) && ready.some((e) => hints(e)!.includes(want));
  if (usable((e) => e.nodeHints, node))
    return { endpoints: ready.filter((e) => e.nodeHints!.includes(node)), by: `hinted for node ${node}` };
  if (usable((e) => e.zoneHints, zone))
    return { endpoints: ready.filter((e) => e.zoneHints!.includes(zone!)), by: `hinted for zone ${zone}` };
  return { endpoints: ready, by: '' };
}

/** What in a node's rules does not implement the Service's spec (endpoints are compared by rulesMismatch). */
export function ruleProblems(
  id: string,
  spec: k8s.V1ServiceSpec,
  node: string,
  rules: ServiceRules,
  slices: EndpointAddress[],
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const say = (section: GuideSection, problem: string) => problems.push({ node, section, problem });
  const where = `kube-proxy's rules on ${node} (${rules.mode})`;
  // Affinity rules hang off the endpoint chains: with no endpoint there is nothing to compare.
  if (rules.endpoints.length) {
    const want =
      spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined;
    const how =
      rules.mode === 'iptables'
        ? `recent-match jumps in ${rules.serviceChain ?? 'its KUBE-SVC chain'}`
        : `affinity-… sets for ${rules.serviceChain ?? 'its service chain'}`;
    if (want !== undefined && rules.affinitySeconds === undefined)
      say('affinity', `${where} ignore sessionAffinity ClientIP of ${id}: no ${how} (timeout ${want} s expected)`);
    else if (want !== undefined && rules.affinitySeconds !== want)
      say(
        'affinity',
        `${where} keep ${id}'s session affinity ${rules.affinitySeconds} s, not its timeoutSeconds ${want} s (${how})`,
      );
    else if (want === undefined && rules.affinitySeconds !== undefined)
      say(
        'affinity',
        `${where} give ${id} session affinity (${how}, ${rules.affinitySeconds} s) though its sessionAffinity is None`,
      );
  }
  // No endpoint at all: kube-proxy must refuse the ClusterIP at once (REJECT), not let clients wait for a timeout.
  const none = !slices.some((e) => e.ready) && spec.internalTrafficPolicy !== 'Local';
  if (none && rules.endpoints.length === 0 && rules.rejectsWithoutEndpoints === false)
    say(
      'rules',
      `${where} do not reject ${id}, which has no endpoints: no "has no endpoints" REJECT in the filter table, so clients wait for a timeout instead of a refusal`,
    );
  if (spec.externalTrafficPolicy === 'Local' && rules.nodePorts.length) {
    const ports = rules.nodePorts.join(', ');
    if (rules.masqueradesExternal)
      say(
        'trafficPolicy',
        `${where} ignore externalTrafficPolicy Local of ${id}: its external chain ${rules.externalChain ?? ''} masquerades every packet of NodePort ${ports}, so backends lose the client's address`.replace(
          '  ',
          ' ',
        ),
      );
    const local = slices.some((e) => e.ready && e.node === node);
    if (!local && !rules.dropsWithoutLocalEndpoints)
      say(
        'trafficPolicy',
        `${where} ignore externalTrafficPolicy Local of ${id}: ${node} has no local endpoint, yet no rule drops NodePort ${ports} (${rules.mode === 'iptables' ? 'filter "has no local endpoints" DROP' : 'no-endpoint-nodeports drop'}), so it forwards to other nodes`,
      );
  }
  return problems;
}

/**
 * Where a UDP flow enters a Service on a node: its ClusterIP and port, or the node's own address
 * at its NodePort (a flow to another node's NodePort only passes through, un-NATed).
 */
export interface UdpFrontend {
  address: string;
  port: number;
}

/**
 * UDP flows to the Service that conntrack still sends to an address that is no ready endpoint:
 * kube-proxy deletes those entries when an endpoint goes, and otherwise a client keeping its
 * source port keeps talking to the dead pod.
 */
export function staleUdpFlows(
  entries: ConntrackEntry[],
  frontends: UdpFrontend[],
  slices: EndpointAddress[],
): ConntrackEntry[] {
  const ready = new Set(slices.filter((e) => e.ready).map((e) => `${e.ip}:${e.port}`));
  // An entry made while the Service had no endpoint is answered by its own destination (no DNAT):
  // kube-proxy clears those once an endpoint is ready; before that they are what it leaves.
  if (!ready.size) return [];
  const toService = (e: ConntrackEntry) =>
    frontends.some((f) => e.original.dport === f.port && e.original.dst === f.address);
  return entries.filter(
    (e) => e.protocol === 'udp' && toService(e) && e.reply.src !== '' && !ready.has(`${e.reply.src}:${e.reply.sport}`),
  );
}
