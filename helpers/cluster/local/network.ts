// The local cluster's network, and the guard that keeps it on this machine.
//
//   host ── svc<name>-h ──┐                       fabric netns (no uplink)
//   node-1 netns ── eth0 ─┼── br0 10.250.0.1 ──── default dev sink: every routed packet
//   node-2 netns ── eth0 ─┘                       is counted and rejected (guard)
//
// Nodes talk over br0 (bridged, never routed); their default route points at the fabric,
// which rejects whatever it would have to route, so a packet for any address outside the
// cluster dies on the machine with an ICMP error. The host's own leg carries only API and
// node traffic; a host nft table counts and drops anything of the cluster's that would
// leave through another interface (the "uplink" counter the guard test reads).
// A cluster with IPv6 (--ip-family dual or ipv6) gets the same again in IPv6: addresses on
// the same links (no duplicate-address wait), the fabric as the default route, rejecting.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../host/run.js';
import { parseAddressRange, rangesOverlap } from '../../parse/cidr.js';
import { FLANNEL_VXLAN_PORT } from './flannel.js';
import { cgroupProcs } from './daemons.js';
import {
  CGROUP_PARENT,
  GUARD_TARGETS,
  GUARD_TARGETS_6,
  RUN_ROOT,
  type ClusterLayout,
  type FamilyNet,
} from './layout.js';

const ip = (...args: string[]) => run('ip', args);
const inNetns = (netns: string, ...cmd: string[]) =>
  run('ip', ['netns', 'exec', netns, ...cmd], { where: `in netns ${netns}` });

/** The families the links carry: IPv4 always (the host reaches the API over it), IPv6 when Kubernetes uses it. */
export function linkNets(layout: ClusterLayout): FamilyNet[] {
  return layout.families.includes('IPv6') ? [layout.nets.IPv4, layout.nets.IPv6] : [layout.nets.IPv4];
}

/** podRoutes: each node routes the other nodes' pod ranges via their addresses (the bridge CNI); off where an overlay does it (flannel). */
export async function createNetwork(layout: ClusterLayout, { podRoutes = true } = {}): Promise<void> {
  await refuseOverlaps(layout);
  const nets = linkNets(layout);
  const v6 = nets.length > 1;
  // An address added with nodad is usable at once: no second of duplicate-address detection on a link we made.
  const addr = (net: FamilyNet, address: string) => [
    `${address}/${net.prefixLength}`,
    ...(net.family === 'IPv6' ? ['nodad'] : []),
  ];
  const fab = layout.fabricNetns;
  await ip('netns', 'add', fab);
  await ip('-n', fab, 'link', 'set', 'lo', 'up');
  await ip('-n', fab, 'link', 'add', 'br0', 'type', 'bridge');
  for (const net of nets) await ip('-n', fab, 'addr', 'add', ...addr(net, net.fabricIP), 'dev', 'br0');
  await ip('-n', fab, 'link', 'set', 'br0', 'up');
  // The sink: a veth pair inside the fabric (this kernel has no dummy links). Routing a
  // packet into it passes the forward hook, where the guard counts and rejects it.
  await ip('-n', fab, 'link', 'add', 'sink', 'type', 'veth', 'peer', 'name', 'sink-peer');
  await ip('-n', fab, 'link', 'set', 'sink-peer', 'up');
  await ip('-n', fab, 'link', 'set', 'sink', 'up');
  await ip('-n', fab, 'route', 'add', 'default', 'dev', 'sink');
  if (v6) await ip('-n', fab, '-6', 'route', 'add', 'default', 'dev', 'sink');
  // LoadBalancer addresses are on the nodes' segment for the outside client: it asks for them by
  // ARP/NDP on br0, and the MetalLB speaker of the announcing node answers (L2 mode).
  for (const net of nets) await ip('-n', fab, 'route', 'add', net.loadBalancerIPRange, 'dev', 'br0');
  // The reject answers every stray packet: the kernel's ICMP rate limit (per destination, a burst of 6 then 1 a
  // second) would drop the unreachables of a node whose pods are masqueraded to its address (flannel), and their
  // senders would wait out a timeout instead of failing at once.
  await inNetns(
    fab,
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv4.icmp_ratelimit=0',
    ...(v6 ? ['net.ipv6.conf.all.forwarding=1', 'net.ipv6.icmp.ratelimit=0'] : []),
    'net.bridge.bridge-nf-call-iptables=0',
    'net.bridge.bridge-nf-call-ip6tables=0',
  );
  await inNetnsNft(fab, fabricGuardRules(layout.nets.IPv4.nodeSubnet));

  await ip('link', 'add', layout.hostLink, 'type', 'veth', 'peer', 'name', 'host', 'netns', fab);
  await ip('-n', fab, 'link', 'set', 'host', 'master', 'br0', 'up');
  for (const net of nets) await ip('addr', 'add', ...addr(net, net.hostIP), 'dev', layout.hostLink);
  await ip('link', 'set', layout.hostLink, 'up');
  // replace: two local clusters (distinct ranges) may still share the external-IP test range.
  for (const cidr of unroutedOnHost(nets)) await ip('route', 'replace', 'unreachable', cidr);
  await recordUnrouted(layout.name, unroutedOnHost(nets));
  await run('nft', ['-f', '-'], { input: hostGuardRules(layout, nets) });

  for (const node of layout.nodes) {
    // A node is a network namespace and a UTS namespace: what runs on it (containerd, the kubelet,
    // kube-proxy, hostNetwork pods) sees the node's name as its hostname, as on a real node.
    await mkdir(dirname(node.uts), { recursive: true });
    await writeFile(node.uts, '');
    await run('unshare', [`--uts=${node.uts}`, 'hostname', node.name]);
    await ip('netns', 'add', node.netns);
    await ip('link', 'add', node.bridgePort, 'netns', fab, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns);
    await ip('-n', fab, 'link', 'set', node.bridgePort, 'master', 'br0', 'up');
    await ip('-n', node.netns, 'link', 'set', 'lo', 'up');
    // No ICMP rate limit, as in the fabric: kube-proxy's REJECT answers with an ICMP error, and the kernel's
    // per-destination limit (a burst of 6, then 1 a second) is shared by every check that dials a refused port
    // from the same client (the outside client, most of all). Suspected in a fresh clone's npm test, where the
    // outside client's dials to a NodePort with no endpoints timed out for the whole sync budget.
    await inNetns(
      node.netns,
      'sysctl',
      '-qw',
      'net.ipv4.ip_forward=1',
      'net.ipv4.icmp_ratelimit=0',
      ...(v6 ? ['net.ipv6.conf.all.forwarding=1', 'net.ipv6.icmp.ratelimit=0'] : []),
      'net.bridge.bridge-nf-call-iptables=1',
      'net.bridge.bridge-nf-call-ip6tables=1',
    );
    for (const net of nets)
      await ip('-n', node.netns, 'addr', 'add', ...addr(net, node.addrs[net.family]), 'dev', 'eth0');
    await ip('-n', node.netns, 'link', 'set', 'eth0', 'up');
    for (const net of nets) {
      const family = net.family;
      await ip('-n', node.netns, 'route', 'add', 'default', 'via', net.fabricIP);
      for (const other of podRoutes ? layout.nodes.filter((n) => n !== node) : []) {
        await ip('-n', node.netns, 'route', 'add', other.podCIDRs[family], 'via', other.addrs[family]);
      }
      // Only so the fabric's ICMP errors find their way back to a pod that sent the packet.
      await ip('-n', fab, 'route', 'add', node.podCIDRs[family], 'via', node.addrs[family]);
    }
  }
}

/** Removes every namespace, link, route and nft table createNetwork made; missing ones are fine. */
export async function destroyNetwork(layout: ClusterLayout): Promise<void> {
  const quiet = (args: string[]) => run('ip', args, { allowFailure: true });
  for (const node of layout.nodes) await quiet(['netns', 'del', node.netns]);
  await quiet(['netns', 'del', layout.fabricNetns]);
  await quiet(['link', 'del', layout.hostLink]);
  for (const cidr of await unroutedToRemove(layout)) await quiet(['route', 'del', 'unreachable', cidr]);
  await run('nft', ['delete', 'table', 'inet', layout.guardTable], { allowFailure: true });
}

/**
 * Each local cluster's unreachable ranges on the host, as it made them: two clusters may share the
 * external-IP and LoadBalancer test ranges (the defaults), and a cluster taken down must not lift the
 * guard another one still stands behind, nor those of the ranges its caller's settings happen to name.
 */
const UNROUTED_DIR = join(RUN_ROOT, 'unrouted');
const unroutedFile = (name: string) => join(UNROUTED_DIR, `${name}.json`);

async function recordUnrouted(name: string, cidrs: string[]): Promise<void> {
  await mkdir(UNROUTED_DIR, { recursive: true });
  await writeFile(unroutedFile(name), JSON.stringify(cidrs));
}

async function readUnrouted(file: string): Promise<string[] | undefined> {
  return readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as string[],
    () => undefined,
  );
}

/** This cluster's recorded ranges (else its layout's), less those another cluster that is still up recorded. */
async function unroutedToRemove(layout: ClusterLayout): Promise<string[]> {
  const mine = (await readUnrouted(unroutedFile(layout.name))) ?? unroutedOnHost(Object.values(layout.nets));
  await rm(unroutedFile(layout.name), { force: true });
  const others = await readdir(UNROUTED_DIR).catch(() => [] as string[]);
  const kept = new Set<string>();
  for (const file of others) for (const cidr of (await readUnrouted(join(UNROUTED_DIR, file))) ?? []) kept.add(cidr);
  return mine.filter((cidr) => !kept.has(cidr));
}

/** The cluster's own ranges that the host must never route anywhere (pods, Services, external IPs, LoadBalancer IPs). */
function unroutedOnHost(nets: FamilyNet[]): string[] {
  return nets.flatMap((net) => [net.serviceCIDR, net.podCIDR, net.externalIPRange, net.loadBalancerIPRange]);
}

/** Netns names this cluster would use that exist now (for down() of a crashed run). */
export async function existingNetns(layout: ClusterLayout): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const ours = stdout.split('\n').map((l) => l.split(' ')[0]);
  return ours.filter((n) => n === layout.fabricNetns || n.startsWith(`svc-${layout.name}-n`));
}

/** The guard's counters: packets the fabric rejected, and packets the host stopped at its uplink. */
export async function readGuardCounters(layout: ClusterLayout): Promise<{
  fabricRejected: number;
  uplinkStopped: number;
  vxlan?: { onSegment: number; offSegment: number };
}> {
  const fabric = await inNetns(layout.fabricNetns, 'nft', '-j', 'list', 'counter', 'inet', 'svc_guard', 'rejected');
  const host = await run('nft', ['-j', 'list', 'counter', 'inet', layout.guardTable, 'uplink']);
  const counter = (family: string, table: string, name: string) =>
    run('ip', ['netns', 'exec', layout.fabricNetns, 'nft', '-j', 'list', 'counter', family, table, name], {
      allowFailure: true,
    });
  const [on, off] = await Promise.all([
    counter('bridge', 'svc_segment', 'vxlan'),
    counter('inet', 'svc_guard', 'vxlan_off_segment'),
  ]);
  const vxlan =
    on.exitCode === 0 && off.exitCode === 0
      ? { onSegment: counterPackets(on.stdout), offSegment: counterPackets(off.stdout) }
      : undefined; // a cluster made before these counters existed
  return { fabricRejected: counterPackets(fabric.stdout), uplinkStopped: counterPackets(host.stdout), vxlan };
}

function counterPackets(nftJson: string): number {
  const doc = JSON.parse(nftJson) as { nftables: { counter?: { packets: number } }[] };
  const counter = doc.nftables.find((o) => o.counter)?.counter;
  if (!counter) throw new Error(`no counter in nft output: ${nftJson.slice(0, 200)}`);
  return counter.packets;
}

function inNetnsNft(netns: string, rules: string) {
  return run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: rules, where: `in netns ${netns}` });
}

/**
 * host-unreachable in both families: a sender's connect() fails at once with EHOSTUNREACH.
 * (admin-prohibited would be EACCES in IPv6, "permission denied", which reads like a local firewall.)
 */
function fabricGuardRules(nodeSubnet: string): string {
  // VXLAN (flannel's overlay, UDP 8472) is counted where it may travel, bridged between two nodes on br0, and where
  // it may not: routed by the fabric towards anywhere else, which the same reject then refuses.
  return `table inet svc_guard {
  counter rejected {}
  counter vxlan_off_segment {}
  chain forward {
    type filter hook forward priority 0; policy accept;
    udp dport ${FLANNEL_VXLAN_PORT} counter name vxlan_off_segment
    counter name rejected reject with icmpx type host-unreachable
  }
}
table bridge svc_segment {
  counter vxlan {}
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip saddr ${nodeSubnet} ip daddr ${nodeSubnet} udp dport ${FLANNEL_VXLAN_PORT} counter name vxlan
  }
}
`;
}

function hostGuardRules(layout: ClusterLayout, nets: FamilyNet[]): string {
  const rules = nets.flatMap((net) => {
    const ours = [net.nodeSubnet, net.podCIDR, net.serviceCIDR, net.externalIPRange, net.loadBalancerIPRange];
    const targets = Object.values(net.family === 'IPv4' ? GUARD_TARGETS : GUARD_TARGETS_6);
    const proto = net.family === 'IPv4' ? 'ip' : 'ip6';
    return [
      `oifname != { "${layout.hostLink}", "lo" } ${proto} saddr { ${ours.join(', ')} } counter name uplink drop`,
      `oifname != { "${layout.hostLink}", "lo" } ${proto} daddr { ${[...ours, ...targets].join(', ')} } counter name uplink drop`,
    ];
  });
  return `table inet ${layout.guardTable} {
  counter uplink {}
  chain postrouting {
    type filter hook postrouting priority 0; policy accept;
    ${rules.join('\n    ')}
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${layout.hostLink}" counter name uplink drop
  }
}
`;
}

/** Refuses to start when this machine already routes one of the cluster's ranges elsewhere. */
async function refuseOverlaps(layout: ClusterLayout): Promise<void> {
  const routes: { dst: string; dev?: string; type?: string }[] = [];
  for (const family of ['-4', '-6'])
    routes.push(...JSON.parse((await run('ip', [family, '-j', 'route', 'show', 'table', 'all'])).stdout));
  const ranges = linkNets(layout).flatMap((net) => [
    net.nodeSubnet,
    net.podCIDR,
    net.serviceCIDR,
    net.externalIPRange,
    net.loadBalancerIPRange,
  ]);
  for (const route of routes) {
    if (
      route.dst === 'default' ||
      route.dev === layout.hostLink ||
      route.type === 'unreachable' ||
      route.type === 'local' ||
      route.type === 'broadcast'
    )
      continue;
    const dst = route.dst.includes('/') ? route.dst : `${route.dst}/${route.dst.includes(':') ? 128 : 32}`;
    const clash = ranges.find((r) => cidrsOverlap(r, dst));
    if (clash) throw new Error(overlapMessage(route, clash));
  }
}

const FREE_RANGES = 'SVC_NODE_SUBNET / SVC_POD_CIDR / SVC_SERVICE_CIDR / SVC_EXTERNAL_IP_RANGE / SVC_LB_IP_RANGE';

/**
 * Why a route clashes, and what to do. A route through another local cluster's host link (svc<name>-h)
 * names that cluster: one whose processes are all gone (its run was killed) is left-over state that
 * `cluster down` removes; one still running is in use, and this cluster needs ranges of its own.
 */
export function overlapMessage(
  route: { dst: string; dev?: string },
  clash: string,
  running: (cluster: string) => boolean = (cluster) => cgroupProcs(`/${CGROUP_PARENT}/${cluster}`).length > 0,
): string {
  const via = `${route.dst}${route.dev ? ` via ${route.dev}` : ''}`;
  const owner = /^svc([a-z][a-z0-9]{0,7})-h$/.exec(route.dev ?? '')?.[1];
  if (owner && !running(owner))
    return `local cluster "${owner}" was left behind by a run that no longer runs (none of its processes is alive), and its ${via} overlaps this cluster's ${clash}; remove it with \`svc-conformance cluster down --name ${owner}\`, or set ${FREE_RANGES} to free ranges`;
  if (owner)
    return `local cluster "${owner}" is running on ${via}, which overlaps this cluster's ${clash}; set ${FREE_RANGES} to free ranges for this one, or take that one down with \`svc-conformance cluster down --name ${owner}\``;
  return `this machine already routes ${via}, which overlaps the local cluster's ${clash}; set ${FREE_RANGES} to free ranges`;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [ra, rb] = [parseAddressRange(a), parseAddressRange(b)];
  return !!ra && !!rb && rangesOverlap(ra, rb);
}
