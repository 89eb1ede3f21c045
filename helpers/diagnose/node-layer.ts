// Each node's own network settings, under kube-proxy and the CNI: forwarding, the filter
// hooks' policies and any foreign rule that drops or rejects the cluster's traffic (iptables
// and nftables), rp_filter, bridge-nf-call-iptables, conntrack use, link MTUs and the routes
// to the other nodes' pod ranges. Read with the node's own tools, parsed by pure parsers
// (helpers/parse/), and turned into the settings that can explain a reading of the path matrix.
import type { Cluster } from '../cluster/cluster.js';
import { nodeShell } from '../cluster/node-shell.js';
import type { NodeInfo } from '../cluster/provider.js';
import { invalidForwarding } from '../parse/conntrack-invalid.js';
import {
  findingFamilies,
  findingMatches,
  iptablesFirewall,
  nftFirewall,
  type FirewallFinding,
} from '../parse/firewall.js';
import { parseIpLink } from '../parse/links.js';
import { parseRoutes, routeFor, type RouteLookup } from '../parse/routes.js';
import { nodeSysctls } from '../parse/sysctl.js';
import type { FlannelLease } from '../parse/vxlan.js';
import { collectOverlay, dropsVxlan, overlaySettings, type OverlayLayer } from './overlay.js';
import type { Fit, PathReading } from './path-matrix.js';

export interface NodeLayer {
  node: string;
  ipForward?: boolean;
  /** rp_filter per interface ('all', 'default', 'eth0', ...): 0 off, 1 strict, 2 loose. */
  rpFilter: Record<string, number>;
  bridgeNfCallIptables?: boolean;
  conntrack?: { count: number; max: number };
  /** nf_conntrack_tcp_be_liberal 1: out-of-window TCP segments are never INVALID, whatever the rules. */
  tcpBeLiberal?: boolean;
  /**
   * iptables filter: a rule that accepts conntrack-INVALID packets between pods before kube-proxy's
   * drop (`bypasses`, when there is one) sees them (parse/conntrack-invalid.ts).
   */
  invalidAccepted?: { rule: string; bypasses?: string };
  /** Policies and rules not kube-proxy's or the CNI's that drop or reject the cluster's traffic. */
  firewall: FirewallFinding[];
  /** How this node reaches each other node's pod range. */
  podRoutes: { node: string; cidr: string; route?: string; problem?: string }[];
  /** The node's own links and the pods' side (the CNI bridge, veths): name and MTU. */
  mtus: { link: string; mtu: number; pods: boolean }[];
  /** The VXLAN overlay (flannel), where the nodes' leases say there is one. */
  overlay?: OverlayLayer;
  errors: string[];
}

export interface NodeRanges {
  /** Each node's pod range(s), from its Node object. */
  podCIDRs: Map<string, string[]>;
  /** Service addresses of interest (the Service's ClusterIP, the DNS Service IP). */
  serviceIPs: string[];
  /** flannel's lease of each node that has one (its Node's annotations): the overlay each node must have. */
  leases?: FlannelLease[];
}

const SYSCTLS = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv4/conf/*/rp_filter',
  '/proc/sys/net/bridge/bridge-nf-call-iptables',
  '/proc/sys/net/netfilter/nf_conntrack_count',
  '/proc/sys/net/netfilter/nf_conntrack_max',
  '/proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal',
];

/** `sysctl`'s "key = value" lines from /proc/sys, without needing procps on the node. */
const SYSCTL_SCRIPT = `for f in ${SYSCTLS.join(' ')}; do [ -r "$f" ] && echo "$(echo "\${f#/proc/sys/}" | tr / .) = $(cat "$f")"; done; true`;

export async function collectNodeLayer(cluster: Cluster, node: NodeInfo, ranges: NodeRanges): Promise<NodeLayer> {
  const out: NodeLayer = { node: node.name, rpFilter: {}, firewall: [], podRoutes: [], mtus: [], errors: [] };
  const shell = nodeShell(cluster, node);
  const attempt = async (what: string, fn: () => Promise<void>) =>
    fn().catch((e: Error) => void out.errors.push(`${what}: ${e.message.split('\n')[0]}`));
  const clusterRanges = {
    podCIDRs: [...ranges.podCIDRs.values()].flat(),
    serviceCIDRs: ranges.serviceIPs.map((ip) => `${ip}/32`),
  };
  await Promise.all([
    attempt('sysctl', async () => {
      const s = nodeSysctls((await shell.run(['sh', '-c', SYSCTL_SCRIPT])).stdout);
      out.ipForward = s.ipForward;
      out.rpFilter = s.rpFilter;
      out.bridgeNfCallIptables = s.bridgeNfCallIptables;
      out.conntrack = s.conntrack;
      out.tcpBeLiberal = s.tcpBeLiberal;
    }),
    attempt('iptables-save', async () => {
      const r = await shell.run(['iptables-save'], { allowFailure: true });
      if (r.exitCode !== 0) return;
      out.firewall.push(...iptablesFirewall(r.stdout, clusterRanges));
      const invalid = invalidForwarding(r.stdout, clusterRanges.podCIDRs);
      if (invalid.acceptRule) out.invalidAccepted = { rule: invalid.acceptRule, bypasses: invalid.bypassedDrop };
    }),
    attempt('ip6tables-save', async () => {
      // IPv6's own rules, where pods have IPv6 addresses: a node with IPv6 forwarding dropped fails only the second
      // family of a dual-stack cluster. (An IPv4 cluster's hosts may drop IPv6 as they like: Docker's FORWARD DROP.)
      if (!clusterRanges.podCIDRs.some((c) => c.includes(':'))) return;
      const r = await shell.run(['ip6tables-save'], { allowFailure: true });
      if (r.exitCode === 0) out.firewall.push(...iptablesFirewall(r.stdout, clusterRanges, 'ip6tables'));
    }),
    attempt('nft', async () => {
      const r = await shell.run(['nft', '-j', 'list', 'ruleset'], { allowFailure: true });
      if (r.exitCode === 0 && r.stdout.trim()) out.firewall.push(...nftFirewall(r.stdout, clusterRanges));
    }),
    attempt('routes', async () => {
      const routes = parseRoutes((await shell.run(['ip', 'route', 'show'])).stdout);
      for (const [other, cidrs] of ranges.podCIDRs) {
        if (other === node.name) continue;
        for (const cidr of cidrs.filter((c) => !c.includes(':'))) {
          out.podRoutes.push({ node: other, cidr, ...describeRoute(routeFor(routes, cidr), cidr) });
        }
      }
    }),
    attempt('links', async () => {
      const links = parseIpLink((await shell.run(['ip', '-o', 'link', 'show'])).stdout);
      out.mtus = links
        .filter((l) => l.up && l.name !== 'lo')
        .map((l) => ({
          link: l.name,
          mtu: l.mtu,
          pods: !!l.master || /^(cni|cbr|docker|br-)/.test(l.name),
        }));
    }),
  ]);
  const leases = ranges.leases ?? [];
  if (leases.length)
    await attempt('overlay', async () => {
      out.overlay = await collectOverlay(shell, node.name, leases, out.mtus);
    });
  out.firewall = out.firewall.filter((f) => f.affectsCluster);
  return out;
}

/** A route lookup in words: how the node sends the range, or what is wrong with it. */
export function describeRoute(found: RouteLookup, cidr: string): { route?: string; problem?: string } {
  if (found.problem) return { route: found.route, problem: found.problem };
  // Clusters that route pods through the network (cloud VPCs) rely on the default route: it matters only if the matrix says so.
  if (found.carrier?.dst === 'default')
    return { route: found.route, problem: `has no route to ${cidr} of its own (only ${found.route})` };
  return { route: found.route };
}

/** One node setting that breaks (part of) the data path, and which path readings it explains. */
export interface NodeSetting {
  node: string;
  /** For a route: the node whose pods it fails to reach. */
  toNode?: string;
  setting: string;
  explains: Fit[];
  next: string;
  /** A firewall finding's: the address families its traffic can be (ip6tables: [6]). */
  families?: (4 | 6)[];
}

const FIREWALL_NEXT =
  "remove the rule or accept the cluster's pod and Service ranges before it (a host firewall, a hardening script or a second container engine such as Docker wrote it)";

/**
 * Whether a rule's interface match can see the cluster's traffic: the pods' side (the CNI bridge,
 * veths) or the links the node reaches other nodes' pods through. `-o docker0 -j DROP` cannot.
 */
function onClusterLinks(layer: NodeLayer, f: FirewallFinding): boolean {
  const used = [
    ...layer.mtus.filter((m) => m.pods).map((m) => m.link),
    ...layer.podRoutes.flatMap((r) => /\bdev (\S+)/.exec(r.route ?? '')?.[1] ?? []),
  ];
  const matches = (name: string | undefined) => {
    if (!name || name.startsWith('!')) return true;
    const wildcard = name.endsWith('+') || name.endsWith('*');
    const stem = wildcard ? name.slice(0, -1) : name;
    // Links not read (no routes, no MTUs) cannot rule a match out.
    return used.length === 0 || used.some((link) => (wildcard ? link.startsWith(stem) : link === stem));
  };
  return matches(f.interfaces?.in) && matches(f.interfaces?.out);
}

/**
 * `family`: the address family of the traffic read (the path matrix asks the pods' primary IPs); a firewall
 * finding of the other family (ip6tables for IPv4, an `ip` nft table for IPv6) explains none of it. Without
 * it, every finding counts.
 */
export function nodeSettings(layer: NodeLayer, family?: 4 | 6): NodeSetting[] {
  const found: NodeSetting[] = [...overlaySettings(layer.node, layer.overlay)];
  const n = layer.node;
  if (layer.ipForward === false)
    found.push({
      node: n,
      setting: `net.ipv4.ip_forward = 0 on ${n}`,
      explains: ['forwarding'],
      next: `set net.ipv4.ip_forward=1 on ${n} (and find what turned it off: a sysctl.d file or a hardening profile)`,
    });
  for (const f of layer.firewall.filter(
    (f) =>
      !f.acceptedFirst &&
      (!family || findingFamilies(f).includes(family)) &&
      (onClusterLinks(layer, f) || dropsVxlan(f, layer.overlay)),
  )) {
    // Encapsulated traffic between nodes: every cross-node hop of the matrix crosses this rule.
    const vxlan = dropsVxlan(f, layer.overlay);
    const hook = f.hook ?? '';
    const addressed = f.kind === 'rule' && /(^|\s)(!\s)?-[sd]\s|saddr|daddr/.test(f.text);
    // The matrix's pod-IP and ClusterIP hops are TCP: a rule for another protocol explains none of them.
    const tcp: Fit[] =
      f.protocol && f.protocol !== 'tcp'
        ? []
        : hook === 'forward'
          ? ['forwarding', 'filtering', ...(addressed ? (['route'] as Fit[]) : [])]
          : hook === 'prerouting'
            ? ['forwarding', 'filtering', 'pods', 'proxy', ...(addressed ? (['route'] as Fit[]) : [])]
            : hook === 'input' || hook === 'output'
              ? ['pods', 'proxy']
              : ['forwarding', 'filtering', 'pods'];
    const explains: Fit[] = [
      ...(vxlan ? (['route', 'routes', 'forwarding', 'filtering'] as Fit[]) : []),
      ...tcp,
      ...(findingMatches(f, 'udp', 53) ? (['dns-udp'] as Fit[]) : []),
    ];
    const where = f.family === 'nftables' ? `nft ${f.table} chain ${f.chain}` : `${f.family} ${f.table} ${f.chain}`;
    found.push({
      node: n,
      setting: `${where} on ${n}: ${f.kind === 'policy' ? `policy ${f.verdict}` : f.text}${vxlan ? ` (drops the overlay's VXLAN traffic, UDP ${layer.overlay!.device!.port}, between the nodes)` : ''}`,
      explains,
      next: FIREWALL_NEXT,
      families: findingFamilies(f),
    });
  }
  for (const r of layer.podRoutes.filter((r) => r.problem))
    found.push({
      node: n,
      toNode: r.node,
      setting: `${n} ${r.problem} (${r.node}'s pod range)`,
      explains: ['route', 'routes'],
      next: `check the CNI: ${n} needs a route to every other node's pod range (here ${r.cidr} via ${r.node})`,
    });
  if (layer.bridgeNfCallIptables === false)
    found.push({
      node: n,
      setting: `net.bridge.bridge-nf-call-iptables = 0 on ${n}`,
      explains: ['same-node-vip'],
      next: `load br_netfilter and set net.bridge.bridge-nf-call-iptables=1 on ${n}: without it a backend's reply to a pod on its own bridge skips conntrack and the VIP never answers`,
    });
  if (layer.conntrack && layer.conntrack.count >= 0.95 * layer.conntrack.max)
    found.push({
      node: n,
      setting: `the conntrack table on ${n} is full (${layer.conntrack.count} of ${layer.conntrack.max} entries)`,
      explains: ['forwarding', 'filtering', 'pods', 'proxy', 'same-node-vip'],
      next: `raise net.netfilter.nf_conntrack_max on ${n} (kube-proxy's conntrack.maxPerCore) or find what fills it`,
    });
  return found;
}

/**
 * Nodes that let a conntrack-INVALID packet between pods through: a rule accepts it before kube-proxy's
 * drop, and TCP is not tracked liberally. Each as "iptables filter CHAIN on NODE: RULE (ahead of …)".
 */
export function invalidAcceptedOn(layers: NodeLayer[]): { nodes: string[]; settings: string[] } {
  const open = layers.filter((l) => l.invalidAccepted && l.tcpBeLiberal !== true);
  return {
    nodes: open.map((l) => l.node),
    settings: open.map((l) => {
      const { rule, bypasses } = l.invalidAccepted!;
      const chain = rule.split(' ')[1];
      return `iptables filter ${chain} on ${l.node}: ${rule}${bypasses ? ` (ahead of kube-proxy's ${bypasses})` : ''}`;
    }),
  };
}

/**
 * Firewall settings that drop only `family`'s traffic (ip6tables, an `ip6` nft table; or iptables and `ip`
 * for IPv4): the path matrix, which asks the pods' primary IPs, passes them by on a dual-stack cluster.
 */
export function familyOnlySettings(layers: NodeLayer[], family: 4 | 6): NodeSetting[] {
  return layers
    .flatMap((layer) => nodeSettings(layer, family))
    .filter((s) => s.families?.length === 1 && s.families[0] === family);
}

/** Facts that do not break a small request but are worth a line: mismatched MTUs, strict rp_filter. */
export function nodeNotes(layer: NodeLayer): string[] {
  const notes: string[] = [];
  const nodeLinks = layer.mtus.filter((m) => !m.pods);
  const podLinks = layer.mtus.filter((m) => m.pods);
  const smallest = Math.min(...nodeLinks.map((m) => m.mtu));
  const bigger = podLinks.filter((m) => m.mtu > smallest);
  if (nodeLinks.length && bigger.length)
    notes.push(
      `pod-side links on ${layer.node} have a larger MTU than its own links (${bigger.map((m) => `${m.link} ${m.mtu}`).join(', ')} > ${smallest}): large packets between nodes are dropped unless path MTU discovery works`,
    );
  const strict = Object.entries(layer.rpFilter).filter(([, v]) => v === 1);
  if (strict.length)
    notes.push(
      `strict rp_filter on ${layer.node} (${strict.map(([k]) => k).join(', ')}): asymmetric routes between nodes are dropped`,
    );
  return notes;
}

/**
 * The node settings that explain a reading of the path matrix, and which of the reading's fits
 * they explain: on the nodes that fit points at, of a kind that fits its pattern (a route from the
 * right node to the right one), the settings whose first use is that pattern first (a missing
 * route before a firewall rule that also fits). The matrix alone may fit several faults equally
 * (on two nodes, node-2 not forwarding and node-1 having no route to node-2's pods fail the same
 * cells): the settings read on the nodes decide.
 */
export function settingsExplaining(
  reading: PathReading,
  layers: NodeLayer[],
  family?: 4 | 6,
): { fit?: Fit; nodes: string[]; settings: NodeSetting[] } | undefined {
  const settings = layers.flatMap((layer) => nodeSettings(layer, family));
  const fitting = (fit: Fit | undefined, nodes: string[]) =>
    settings
      .filter((s) => {
        if (!fit || !s.explains.includes(fit)) return false;
        if (fit === 'route' || fit === 'routes')
          return nodes.includes(s.node) && (!s.toNode || nodes.includes(s.toNode));
        return nodes.includes(s.node);
      })
      .sort((a, b) => Number(b.explains[0] === fit) - Number(a.explains[0] === fit));
  for (const candidate of [{ fit: reading.fit, nodes: reading.nodes }, ...reading.alternatives]) {
    const found = fitting(candidate.fit, candidate.nodes);
    if (found.length) return { ...candidate, settings: found };
  }
  if (reading.fit) return undefined;
  // No single fault fitted the matrix exactly: settings on a node in every failing path, of any data-path kind.
  const loose = settings.filter((s) => reading.nodes.includes(s.node) && s.explains.length > 0);
  return loose.length ? { nodes: reading.nodes, settings: loose } : undefined;
}
