// `ip route show` (IPv4, the main table) output, one route per line; a multipath route continues
// on the lines below it, one `nexthop` each:
//   default via 10.246.0.1 dev eth0
//   10.236.1.0/24 dev cni0 proto kernel scope link src 10.236.1.1
//   blackhole 10.236.2.0/24
//   10.236.4.0/24
//   	nexthop via 10.246.0.12 dev eth0 weight 1
import { parseAddressRange, prefixLength, rangeContains, rangesOverlap, type AddressRange } from './cidr.js';

export interface Route {
  /** 'default' or a CIDR; a host route (`10.0.0.5 dev eth0`) is written 10.0.0.5/32. */
  dst: string;
  via?: string;
  dev?: string;
  /** The route type when ip prints one: unreachable, blackhole, prohibit, throw, local, broadcast, … (absent: unicast). */
  type?: string;
  proto?: string;
  scope?: string;
  src?: string;
  metric?: number;
  /** A multipath route's next hops (the route itself then has no via/dev). */
  nexthops?: { via?: string; dev?: string; weight?: number }[];
}

/** The types whose route refuses the traffic instead of carrying it. */
export const REFUSING_ROUTE_TYPES = ['unreachable', 'blackhole', 'prohibit'];

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'anycast',
  'throw',
  'nat',
  ...REFUSING_ROUTE_TYPES,
]);

// Why: which way a node sends another node's pod range, if any.
export function parseRoutes(text: string): Route[] {
  const routes: Route[] = [];
  for (const rawLine of text.split('\n')) {
    const words = rawLine.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    if (words[0] === 'nexthop') {
      const route = routes.at(-1);
      if (route) (route.nexthops ??= []).push(nexthop(words));
      continue;
    }
    const type = ROUTE_TYPES.has(words[0]) ? words.shift() : undefined;
    const [dst, ...rest] = words;
    if (!dst) continue;
    const after = (word: string) => {
      const i = rest.indexOf(word);
      return i >= 0 && i + 1 < rest.length ? rest[i + 1] : undefined;
    };
    const metric = after('metric');
    routes.push(
      withoutUndefined({
        dst: dst === 'default' || dst.includes('/') ? dst : `${dst}/32`,
        via: after('via'),
        dev: after('dev'),
        type,
        proto: after('proto'),
        scope: after('scope'),
        src: after('src'),
        metric: metric === undefined ? undefined : Number(metric),
      }),
    );
  }
  return routes;
}

export interface RouteLookup {
  /** The unicast route that carries the whole CIDR: the longest prefix that covers it (lowest metric on a tie); undefined when none does. */
  carrier?: Route;
  /** `carrier` as `ip route` writes it, on one line: "10.244.2.0/24 via 10.0.0.12 dev eth0". */
  route?: string;
  /** unreachable/blackhole/prohibit routes that take precedence over `carrier` for all or part of the CIDR (more specific, or as specific with a metric no higher). */
  refused: Route[];
  /** `carrier` is there and nothing refuses any part of the CIDR first. */
  carried: boolean;
  /** Only the default route carries it: no route of the node's own for the CIDR (see `problem`). */
  viaDefault: boolean;
  /**
   * What is wrong, worded to follow the node's name: "has no route to 10.244.2.0/24", "routes
   * 10.244.2.0/24 to a blackhole", "routes 10.244.2.128/25 (part of 10.244.2.0/24) as prohibited".
   * Absent when carried — also when only the default route carries it, which is right on some
   * networks (a cloud's routed pod ranges) and wrong on others (host-gw): `carrier.dst` tells.
   */
  problem?: string;
}

// Why: lets the diagnosis say "node-1 has no route to node-2's pod range 10.244.2.0/24" or
// "node-1 routes 10.244.2.0/24 to a blackhole". Only the whole CIDR counts: a route for half of
// it does not carry it.
export function routeFor(routes: Route[], cidr: string): RouteLookup {
  const wanted = parseAddressRange(cidr);
  if (!wanted)
    return {
      refused: [],
      carried: false,
      viaDefault: false,
      problem: `has no route to ${cidr} (not an address range)`,
    };
  const lengthOf = (range: AddressRange) => prefixLength(range) ?? -1;
  const ranged = routes
    .map((route) => ({ route, range: parseAddressRange(route.dst === 'default' ? '0.0.0.0/0' : route.dst) }))
    .filter((entry): entry is { route: Route; range: AddressRange } => entry.range !== undefined);
  let best: { route: Route; range: AddressRange } | undefined;
  for (const entry of ranged) {
    if ((entry.route.type ?? 'unicast') !== 'unicast' || !rangeContains(entry.range, wanted)) continue;
    const longer = !best || lengthOf(entry.range) > lengthOf(best.range);
    const cheaper =
      best && lengthOf(entry.range) === lengthOf(best.range) && (entry.route.metric ?? 0) < (best.route.metric ?? 0);
    if (longer || cheaper) best = entry;
  }
  const refused = ranged.filter(({ route, range }) => {
    if (!REFUSING_ROUTE_TYPES.includes(route.type ?? '') || !rangesOverlap(range, wanted)) return false;
    if (!best) return true;
    const length = lengthOf(range);
    const bestLength = lengthOf(best.range);
    return length > bestLength || (length === bestLength && (route.metric ?? 0) <= (best.route.metric ?? 0));
  });
  const refusal = ({ route, range }: (typeof refused)[number]) => {
    const what = rangeContains(range, wanted) ? cidr : `${route.dst} (part of ${cidr})`;
    return route.type === 'blackhole'
      ? `routes ${what} to a blackhole`
      : `routes ${what} as ${route.type === 'prohibit' ? 'prohibited' : route.type}`;
  };
  const problem =
    refused.length > 0 ? refused.map(refusal).join(' and ') : best ? undefined : `has no route to ${cidr}`;
  return withoutUndefined({
    carrier: best?.route,
    route: best && renderRoute(best.route),
    refused: refused.map(({ route }) => route),
    carried: best !== undefined && refused.length === 0,
    viaDefault: best !== undefined && lengthOf(best.range) === 0,
    problem,
  });
}

/** A route on one line, as `ip route` writes it (a multipath route's next hops after it). */
export function renderRoute(route: Route): string {
  const words: (string | number | undefined)[] = [route.type, route.dst];
  for (const key of ['via', 'dev', 'proto', 'scope', 'src', 'metric'] as const)
    if (route[key] !== undefined) words.push(key, route[key]);
  for (const hop of route.nexthops ?? [])
    words.push(
      'nexthop',
      ...(['via', 'dev', 'weight'] as const).flatMap((key) => (hop[key] === undefined ? [] : [key, hop[key]])),
    );
  return words.filter((word) => word !== undefined).join(' ');
}

function nexthop(words: string[]): { via?: string; dev?: string; weight?: number } {
  const after = (word: string) => {
    const i = words.indexOf(word);
    return i >= 0 && i + 1 < words.length ? words[i + 1] : undefined;
  };
  const weight = after('weight');
  return withoutUndefined({
    via: after('via'),
    dev: after('dev'),
    weight: weight === undefined ? undefined : Number(weight),
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
