// The data path, hop by hop, from every node: a probe pod pinned to each node and the node
// itself dial every ready backend's pod IP and each CoreDNS pod (the pod network), ask the
// Service's ClusterIP (kube-proxy's NAT on that node) and ask DNS at CoreDNS's pod IPs and at
// the kube-dns Service IP. Which cells fail tells the layer and the node that break:
// readPodLayer / readServiceLayer / readDnsLayer below are pure, and test on recorded shapes.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { hostPort } from '../address.js';
import { nodeDial, nodeHttp, nodeLookup } from '../node/node-probe.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { DialResult, LookupResult, Tally } from '../parse/svcprobe.js';
import { startClientPod, type ClientPod } from '../workloads/client-pod.js';

/** 'DNS at pod IP' asks over UDP, as applications do; 'DNS/TCP at pod IP' the same over TCP, to tell a UDP-only filter from CoreDNS. */
export type Hop = 'pod IP' | 'ClusterIP' | 'DNS at pod IP' | 'DNS/TCP at pod IP' | 'DNS at Service IP';

export interface PathSource {
  kind: 'pod' | 'node';
  node: string;
}

export interface PathCell {
  from: PathSource;
  hop: Hop;
  /** The node of the target pod; for the ClusterIP, the node whose backends the VIP reached ('' when answers name no backend). */
  to: string;
  /** What was asked: "10.244.2.3:9376 (hostnames-abc)", "10.96.0.10". */
  target: string;
  /** Answered; undefined when the cell could not be decided (the VIP chose no backend on that node). */
  ok?: boolean;
  detail: string;
}

export interface PathMatrix {
  cells: PathCell[];
  /** Sources that could not be used, and why (no node access, a probe pod that did not start). */
  notes: string[];
}

export interface PathTargets {
  /** Ready backends, at the port their container serves. */
  backends: { pod: string; ip: string; node: string; port: number }[];
  /** The Service's VIP, when it has one with a TCP port. */
  clusterIP?: { ip: string; port: number };
  coredns: { pod: string; ip: string; node: string }[];
  dns: { serviceIP: string; name: string };
}

interface Prober {
  source: PathSource;
  dial(address: string): Promise<DialResult>;
  http(url: string, count: number): Promise<Tally>;
  lookup(name: string, server: string, tcp?: boolean): Promise<LookupResult>;
}

/** The probe pods a diagnosis starts (one per node) carry this role. */
export const PATH_PROBE_ROLE = 'path-probe';

export async function collectPathMatrix(
  cluster: Cluster,
  namespace: string,
  targets: PathTargets,
): Promise<PathMatrix> {
  const notes: string[] = [];
  const probers: Prober[] = [];
  const pods = await Promise.allSettled(
    cluster.nodes.map((node, i) =>
      startClientPod(cluster, namespace, {
        name: `path-probe-${i + 1}`,
        node: node.name,
        labels: { role: PATH_PROBE_ROLE },
        readyWithinMs: Math.min(cluster.settings.timeouts.podsReady, 25_000),
      }),
    ),
  );
  pods.forEach((p, i) => {
    if (p.status === 'fulfilled') probers.push(podProber(p.value));
    else notes.push(`no probe pod on ${cluster.nodes[i].name}: ${(p.reason as Error).message.split('\n')[0]}`);
  });
  const skip = nodeAccessSkipReason(cluster);
  if (skip) notes.push(`nodes themselves not probed: ${skip}`);
  else probers.push(...cluster.nodes.map((node) => nodeProber(cluster, node)));

  const cells = (await Promise.all(probers.map((p) => probeFrom(p, targets)))).flat();
  return { cells, notes };
}

function podProber(pod: ClientPod): Prober {
  return {
    source: { kind: 'pod', node: pod.node },
    dial: (address) => pod.dial(address),
    http: (url, count) => pod.http(url, { count, concurrency: Math.min(count, 8) }),
    lookup: (name, server, tcp) => pod.resolve(name, { server, tcp }),
  };
}

function nodeProber(cluster: Cluster, node: NodeInfo): Prober {
  return {
    source: { kind: 'node', node: node.name },
    dial: (address) => nodeDial(cluster, node, address),
    http: (url, count) => nodeHttp(cluster, node, url, count),
    lookup: (name, server, tcp) => nodeLookup(cluster, node, name, server, tcp),
  };
}

async function probeFrom(p: Prober, t: PathTargets): Promise<PathCell[]> {
  const cell = (hop: Hop, to: string, target: string, ok: boolean | undefined, detail: string): PathCell => ({
    from: p.source,
    hop,
    to,
    target,
    ok,
    detail,
  });
  const failed = (error: unknown) => `probe failed: ${(error as Error).message.split('\n')[0]}`;
  const dial = async (to: string, address: string, label: string) => {
    try {
      const r = await p.dial(address);
      return cell(
        'pod IP',
        to,
        label,
        r.outcome === 'ok',
        r.outcome === 'ok' ? 'connects' : `${r.outcome} ${r.error ?? ''}`.trim(),
      );
    } catch (error) {
      return cell('pod IP', to, label, undefined, failed(error));
    }
  };
  const lookup = async (hop: Hop, to: string, server: string, label: string) => {
    try {
      const r = await p.lookup(t.dns.name, server, hop === 'DNS/TCP at pod IP');
      return cell(
        hop,
        to,
        label,
        r.outcome === 'ok',
        r.outcome === 'ok' ? `answers ${r.addrs?.join(',')}` : `${r.outcome} ${r.error ?? ''}`.trim(),
      );
    } catch (error) {
      return cell(hop, to, label, undefined, failed(error));
    }
  };
  const jobs: Promise<PathCell | PathCell[]>[] = [
    ...t.backends.map((b) => dial(b.node, hostPort(b.ip, b.port), `${hostPort(b.ip, b.port)} (${b.pod})`)),
    ...t.coredns.map((c) => dial(c.node, hostPort(c.ip, 53), `${hostPort(c.ip, 53)} (${c.pod})`)),
    ...t.coredns.map((c) => lookup('DNS at pod IP', c.node, c.ip, `${c.ip} (${c.pod})`)),
    ...t.coredns.map((c) => lookup('DNS/TCP at pod IP', c.node, c.ip, `${c.ip} (${c.pod})`)),
    lookup('DNS at Service IP', '', t.dns.serviceIP, t.dns.serviceIP),
  ];
  if (t.clusterIP && t.backends.length) jobs.push(viaClusterIP(p, t, cell, failed));
  return (await Promise.all(jobs)).flat();
}

/** Enough requests through the VIP that each backend is chosen (a miss is 1 in 10^4 per backend at 8 per backend). */
async function viaClusterIP(
  p: Prober,
  t: PathTargets,
  cell: (hop: Hop, to: string, target: string, ok: boolean | undefined, detail: string) => PathCell,
  failed: (error: unknown) => string,
): Promise<PathCell[]> {
  const vip = hostPort(t.clusterIP!.ip, t.clusterIP!.port);
  const count = Math.min(8 * t.backends.length, 40);
  let tally: Tally;
  try {
    tally = await p.http(`http://${vip}/`, count);
  } catch (error) {
    return [cell('ClusterIP', '', vip, undefined, failed(error))];
  }
  const errors = Object.entries(tally.errors ?? {})
    .map(([e, n]) => `${n}× ${e}`)
    .join(', ');
  const summary = `${tally.ok}/${tally.count} answered${errors ? `, ${errors}` : ''}`;
  const named = t.backends.filter((b) => tally.answers[b.pod]);
  // An application that does not answer with its pod's name: the VIP as a whole.
  if (tally.ok > 0 && named.length === 0) return [cell('ClusterIP', '', vip, tally.ok === tally.count, summary)];
  const nodes = [...new Set(t.backends.map((b) => b.node))];
  return nodes.map((node) => {
    const answered = t.backends.filter((b) => b.node === node).reduce((n, b) => n + (tally.answers[b.pod] ?? 0), 0);
    // No answer from this node's backends is a failure only when requests failed; else the VIP chose others.
    const ok = answered > 0 ? true : tally.ok < tally.count ? false : undefined;
    return cell('ClusterIP', node, vip, ok, `${answered} of ${summary} from backends on ${node}`);
  });
}

// --- reading the matrix -------------------------------------------------------------------

export type Fit =
  /** The node does not forward pod traffic (routed), in or out. */
  | 'forwarding'
  /** The node drops pod traffic it forwards and bridges (a filter hook that sees both). */
  | 'filtering'
  /** One node has no usable route to another node's pods. */
  | 'route'
  /** No node has a usable route to the other nodes' pods. */
  | 'routes'
  /** Nothing reaches the pods on one node, not even that node itself. */
  | 'pods'
  /** Nothing on the node reaches a VIP (kube-proxy's NAT on that node). */
  | 'proxy'
  /** Pods on the node reach its other pods by pod IP but not through a VIP (the reply bypasses conntrack). */
  | 'same-node-vip'
  /** CoreDNS's pods take connections but give no answer. */
  | 'coredns'
  /** CoreDNS answers at its pod IPs but not at the kube-dns Service IP. */
  | 'dns-vip'
  /** Queries to CoreDNS over UDP get no answer while the same queries over TCP do: a UDP filter on the way. */
  | 'dns-udp';

export interface PathReading {
  layer: 'pod IP' | 'ClusterIP' | 'DNS';
  fit?: Fit;
  /** The node(s) the failures point at; for a route, [from, to]. */
  nodes: string[];
  /** Other explanations that fit the matrix as well (node evidence decides between them). */
  alternatives: { fit: Fit; nodes: string[] }[];
  /** What the matrix shows, in words. */
  pattern: string;
  /** Targets no one reaches, while other pods on their nodes answer ("10.244.1.3:53 (coredns-x)"). */
  dead?: string[];
}

interface Hypothesis {
  fit: Fit;
  nodes: string[];
  broken: Set<string>;
}

/** The parts of the data path a pod-IP cell crosses (requests and replies). */
function podIpParts(c: PathCell): string[] {
  const x = c.from.node;
  const y = c.to;
  const parts = [`pods:${y}`];
  if (x === y) parts.push(c.from.kind === 'pod' ? `bridge:${x}` : `local:${x}`);
  else if (c.from.kind === 'pod') parts.push(`fwd:${x}`, `fwd:${y}`, `route:${x}>${y}`, `route:${y}>${x}`);
  else parts.push(`fwd:${y}`, `route:${x}>${y}`);
  return parts;
}

function consistent(h: Hypothesis, cells: PathCell[], parts: (c: PathCell) => string[]): boolean {
  return cells.every((c) => {
    if (c.ok === undefined) return true;
    const hit = parts(c).some((p) => h.broken.has(p));
    return c.ok ? !hit : hit;
  });
}

/** Which fits explain the cells exactly, simplest first. */
function explain(hypotheses: Hypothesis[], cells: PathCell[], parts: (c: PathCell) => string[]): Hypothesis[] {
  return hypotheses.filter((h) => consistent(h, cells, parts)).sort((a, b) => a.broken.size - b.broken.size);
}

const nodesOf = (cells: PathCell[]) => [...new Set(cells.flatMap((c) => [c.from.node, c.to]).filter(Boolean))].sort();

export function readPodLayer(matrix: PathMatrix): PathReading | undefined {
  const cells = matrix.cells.filter((c) => c.hop === 'pod IP');
  if (!cells.some((c) => c.ok === false)) return undefined;
  const nodes = nodesOf(cells);
  // Pods that answer no one, not even their own node, while others on that node answer: the pods themselves.
  const decided = cells.filter((c) => c.ok !== undefined);
  const dead = [...new Set(decided.map((c) => c.target))].filter((t) =>
    decided.filter((c) => c.target === t).every((c) => !c.ok),
  );
  const failedTargets = new Set(decided.filter((c) => !c.ok).map((c) => c.target));
  const liveNeighbour = (t: string) => {
    const node = cells.find((c) => c.target === t)!.to;
    return decided.some((c) => c.to === node && c.ok);
  };
  if (dead.length && [...failedTargets].every((t) => dead.includes(t)) && dead.every(liveNeighbour))
    return {
      layer: 'pod IP',
      fit: 'pods',
      nodes: [...new Set(dead.map((t) => cells.find((c) => c.target === t)!.to))],
      alternatives: [],
      dead,
      pattern: `${dead.join(', ')} answer${dead.length === 1 ? 's' : ''} no one, not even ${dead.length === 1 ? 'its' : 'their'} own node, while other pods there answer`,
    };
  const hypotheses: Hypothesis[] = [];
  for (const n of nodes) {
    hypotheses.push({ fit: 'pods', nodes: [n], broken: new Set([`pods:${n}`]) });
    hypotheses.push({ fit: 'forwarding', nodes: [n], broken: new Set([`fwd:${n}`]) });
    hypotheses.push({ fit: 'filtering', nodes: [n], broken: new Set([`fwd:${n}`, `bridge:${n}`]) });
    for (const m of nodes.filter((m) => m !== n))
      hypotheses.push({ fit: 'route', nodes: [n, m], broken: new Set([`route:${n}>${m}`]) });
  }
  // Both directions of a route, or every route between the nodes (e.g. all pod routes removed).
  if (nodes.length >= 2)
    hypotheses.push({
      fit: 'routes',
      nodes,
      broken: new Set(nodes.flatMap((n) => nodes.filter((m) => m !== n).map((m) => `route:${n}>${m}`))),
    });
  const fits = explain(hypotheses, cells, podIpParts);
  const [best, ...rest] = fits;
  return {
    layer: 'pod IP',
    fit: best?.fit,
    nodes: best?.nodes ?? suspects(cells, podIpParts),
    alternatives: rest.filter((h) => h.broken.size === best.broken.size).map((h) => ({ fit: h.fit, nodes: h.nodes })),
    pattern: describePodLayer(cells, best?.nodes ?? nodes),
  };
}

/** Nodes that appear in every failed cell's path, when no single fault explains the matrix. */
function suspects(cells: PathCell[], parts: (c: PathCell) => string[]): string[] {
  const failed = cells.filter((c) => c.ok === false);
  const nodes = nodesOf(cells);
  return nodes.filter((n) => failed.every((c) => parts(c).some((p) => p.split(':')[1].split('>').includes(n))));
}

const tallyOf = (cells: PathCell[]) =>
  `${cells.filter((c) => c.ok).length}/${cells.filter((c) => c.ok !== undefined).length}`;

/** "pods on node-2 reach 0/3 pod IPs off node-2 and 1/1 on it; node-2 itself reaches 3/3 off it; from off node-2, 0/4 reach its pods". */
export function describePodLayer(cells: PathCell[], focus: string[]): string {
  const parts: string[] = [];
  for (const n of focus) {
    const podsOff = cells.filter((c) => c.from.kind === 'pod' && c.from.node === n && c.to !== n);
    const podsOn = cells.filter((c) => c.from.kind === 'pod' && c.from.node === n && c.to === n);
    const nodeOff = cells.filter((c) => c.from.kind === 'node' && c.from.node === n && c.to !== n);
    const nodeOn = cells.filter((c) => c.from.kind === 'node' && c.from.node === n && c.to === n);
    const into = cells.filter((c) => c.from.node !== n && c.to === n);
    const said: string[] = [];
    if (podsOff.length || podsOn.length)
      said.push(
        `pods on ${n} reach ${[podsOff.length && `${tallyOf(podsOff)} pod IPs off ${n}`, podsOn.length && `${tallyOf(podsOn)} on ${n}`].filter(Boolean).join(' and ')}`,
      );
    if (nodeOff.length || nodeOn.length)
      said.push(
        `${n} itself reaches ${[nodeOff.length && `${tallyOf(nodeOff)} off it`, nodeOn.length && `${tallyOf(nodeOn)} of its own`].filter(Boolean).join(' and ')}`,
      );
    if (into.length) said.push(`from other nodes and their pods, ${tallyOf(into)} reach ${n}'s pods`);
    parts.push(said.join('; '));
  }
  return parts.filter(Boolean).join('; ');
}

/** The VIP, read only where the pod IPs behind it answer from the same source. */
export function readServiceLayer(matrix: PathMatrix): PathReading | undefined {
  const podIp = matrix.cells.filter((c) => c.hop === 'pod IP');
  const reachable = (c: PathCell) =>
    c.to === ''
      ? podIp.filter((p) => p.from.node === c.from.node && p.from.kind === c.from.kind).every((p) => p.ok !== false)
      : podIp
          .filter((p) => p.from.node === c.from.node && p.from.kind === c.from.kind && p.to === c.to)
          .every((p) => p.ok !== false);
  const cells = matrix.cells.filter((c) => c.hop === 'ClusterIP' && reachable(c));
  if (!cells.some((c) => c.ok === false)) return undefined;
  const parts = (c: PathCell) => [
    `vip:${c.from.node}`,
    ...(c.from.kind === 'pod' && c.to === c.from.node ? [`same:${c.from.node}`] : []),
  ];
  const nodes = nodesOf(cells);
  const hypotheses: Hypothesis[] = nodes.flatMap((n) => [
    { fit: 'proxy' as const, nodes: [n], broken: new Set([`vip:${n}`]) },
    { fit: 'same-node-vip' as const, nodes: [n], broken: new Set([`same:${n}`]) },
  ]);
  // The same fault on every node (a host setting rolled out everywhere).
  if (nodes.length > 1)
    hypotheses.push(
      { fit: 'proxy', nodes, broken: new Set(nodes.map((n) => `vip:${n}`)) },
      { fit: 'same-node-vip', nodes, broken: new Set(nodes.map((n) => `same:${n}`)) },
    );
  const [best, ...rest] = explain(hypotheses, cells, parts);
  const failing = cells.filter((c) => c.ok === false);
  return {
    layer: 'ClusterIP',
    fit: best?.fit,
    nodes: best?.nodes ?? [...new Set(failing.map((c) => c.from.node))],
    alternatives: rest.filter((h) => h.broken.size === best.broken.size).map((h) => ({ fit: h.fit, nodes: h.nodes })),
    pattern: failing
      .map((c) => `${c.from.kind === 'pod' ? `a pod on ${c.from.node}` : c.from.node} → ${c.target}: ${c.detail}`)
      .join('; '),
  };
}

/** DNS, read only where the layers under it were seen to work. */
export function readDnsLayer(matrix: PathMatrix): PathReading | undefined {
  const same = (a: PathCell, b: PathCell) => a.from.node === b.from.node && a.from.kind === b.from.kind;
  const connects = matrix.cells.filter((c) => c.hop === 'pod IP' && c.ok && / \(/.test(c.target));
  const atPod = matrix.cells.filter((c) => c.hop === 'DNS at pod IP');
  const overTcp = (c: PathCell) =>
    matrix.cells.find((t) => t.hop === 'DNS/TCP at pod IP' && same(t, c) && t.target === c.target);
  // The query over UDP gets nothing while the same query over TCP is answered: CoreDNS works, the way drops UDP.
  const udpOnly = atPod.filter((c) => c.ok === false && overTcp(c)?.ok === true);
  if (udpOnly.length)
    return {
      layer: 'DNS',
      fit: 'dns-udp',
      nodes: [...new Set(udpOnly.flatMap((c) => [c.from.node, c.to]))].sort(),
      alternatives: [],
      pattern: udpOnly
        .map(
          (c) =>
            `${c.from.kind === 'pod' ? `a pod on ${c.from.node}` : c.from.node} gets ${c.detail} from CoreDNS ${c.target} over UDP but an answer over TCP`,
        )
        .join('; '),
    };
  // CoreDNS takes the connection (its pod IP answers on 53/TCP from this source) yet gives no answer, in
  // either protocol: the query reached it (a query over TCP is not filtered where the connection passes).
  const silent = atPod.filter(
    (c) =>
      c.ok === false &&
      overTcp(c)?.ok !== true &&
      connects.some((k) => same(k, c) && k.target.split(':')[0] === c.target.split(' ')[0]),
  );
  if (silent.length)
    return {
      layer: 'DNS',
      fit: 'coredns',
      nodes: [...new Set(silent.map((c) => c.to))],
      alternatives: [],
      pattern: silent
        .map(
          (c) =>
            `${c.from.kind === 'pod' ? `a pod on ${c.from.node}` : c.from.node} connects to CoreDNS ${c.target} but its query gets ${c.detail}`,
        )
        .join('; '),
    };
  const viaVip = matrix.cells.filter(
    (c) => c.hop === 'DNS at Service IP' && c.ok === false && atPod.some((p) => same(p, c) && p.ok),
  );
  if (viaVip.length)
    return {
      layer: 'DNS',
      fit: 'dns-vip',
      nodes: [...new Set(viaVip.map((c) => c.from.node))],
      alternatives: [],
      pattern: viaVip
        .map(
          (c) =>
            `from ${c.from.kind === 'pod' ? `a pod on ${c.from.node}` : c.from.node}, CoreDNS answers at its pod IP but ${c.target} gives ${c.detail}`,
        )
        .join('; '),
    };
  return undefined;
}

/** The matrix as a Markdown table: one row per source, one column per hop and target node. */
export function matrixMarkdown(matrix: PathMatrix): string {
  if (!matrix.cells.length) return `no cells${matrix.notes.length ? `: ${matrix.notes.join('; ')}` : ''}`;
  const label = (c: PathCell) => `${c.hop}${c.to ? ` → ${c.to}` : ''}`;
  const columns = [...new Set(matrix.cells.map(label))];
  const sources = [...new Set(matrix.cells.map((c) => `${c.from.kind} on ${c.from.node}`))];
  const mark = (cells: PathCell[]) =>
    cells.length === 0
      ? ''
      : cells.every((c) => c.ok)
        ? `✓ ${cells.length}`
        : cells.map((c) => (c.ok ? '✓' : c.ok === false ? `✗ ${c.target}: ${c.detail}` : `? ${c.detail}`)).join('<br>');
  const rows = sources.map(
    (s) =>
      `| ${s} | ${columns.map((col) => mark(matrix.cells.filter((c) => `${c.from.kind} on ${c.from.node}` === s && label(c) === col))).join(' | ')} |`,
  );
  return [
    `| from | ${columns.join(' | ')} |`,
    `| --- | ${columns.map(() => '---').join(' | ')} |`,
    ...rows,
    ...matrix.notes.map((n) => `\n${n}`),
  ].join('\n');
}
