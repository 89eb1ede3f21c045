// CoreDNS's Corefile: which zones its `kubernetes` plugin answers for. The plugin's own zones
// when its line names them (`kubernetes cluster.local in-addr.arpa ip6.arpa {`), else the zones
// of the server block it sits in (`cluster.local:53 in-addr.arpa:53 {`). Zones come back
// without port or trailing dot, lower case.
//
// A reverse (PTR) query goes to the server block with the most specific zone holding its name
// (`50.0.96.10.in-addr.arpa` → the block of `in-addr.arpa`, else `.`); the kubernetes plugin answers it
// only when one of its own zones holds the name. A block that takes the name with no plugin to answer it
// answers SERVFAIL (CoreDNS: "no next plugin found").
import { parseAddressRange } from './cidr.js';

export interface CorefileServer {
  /** The server block's zones: `cluster.local:53 .:53` → ['cluster.local', '.']. */
  zones: string[];
  /** The kubernetes plugin's zones in this block, when it has the plugin. */
  kubernetes?: string[];
  /** The plugins of the block, in the Corefile's order (`errors`, `kubernetes`, `forward`, …). */
  plugins: string[];
}

export function parseCorefile(text: string): CorefileServer[] {
  const servers: CorefileServer[] = [];
  let depth = 0;
  let current: CorefileServer | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const words = line.replace(/[{}]/g, ' ').split(/\s+/).filter(Boolean);
    if (depth === 0 && line.endsWith('{')) {
      current = { zones: words.map(zoneOf), plugins: [] };
      servers.push(current);
    } else if (depth === 1 && current && words[0]) {
      current.plugins.push(words[0]);
      if (words[0] === 'kubernetes') {
        const named = words.slice(1).map(zoneOf);
        current.kubernetes = named.length ? named : current.zones;
      }
    }
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  return servers;
}

/** Every zone the kubernetes plugin serves, over all server blocks; [] when no block has the plugin. */
export function kubernetesZones(text: string): string[] {
  return [...new Set(parseCorefile(text).flatMap((s) => s.kubernetes ?? []))];
}

/** Whether `domain` (cluster.local) lies in one of the zones ('.' holds every name). */
export function servesDomain(zones: string[], domain: string): boolean {
  const d = zoneOf(domain);
  return zones.some((z) => z === '.' || d === z || d.endsWith(`.${z}`));
}

/** The name a PTR query asks for an address: 10.96.0.50 → 50.0.96.10.in-addr.arpa, fd00::1 → 1.0.0.…ip6.arpa. */
export function reverseName(address: string): string | undefined {
  const parsed = parseAddressRange(address);
  if (!parsed || parsed.first !== parsed.last) return undefined;
  if (parsed.family === 4) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${[...parsed.first.toString(16).padStart(32, '0')].reverse().join('.')}.ip6.arpa`;
}

/** Plugins that answer no query themselves: what is left in a block besides them may answer a name kubernetes does not. */
const BOOKKEEPING = new Set([
  'errors',
  'health',
  'ready',
  'prometheus',
  'cache',
  'reload',
  'loadbalance',
  'log',
  'loop',
  'debug',
  'bind',
  'kubernetes',
  'any',
  'autopath',
  'metadata',
  'trace',
  'dnssec',
  'rewrite',
  'header',
  'minimal',
  'acl',
]);

export interface ReverseLookup {
  /** The reverse name asked (50.0.96.10.in-addr.arpa). */
  name: string;
  /** The kubernetes plugin of the block that takes the name serves it: the PTR record can be answered. */
  served: boolean;
  /** The zones of the server block that takes the name; undefined when none does (CoreDNS refuses it). */
  block?: string[];
  /** That block's plugins that may answer instead (forward, template, file, …); [] → SERVFAIL. */
  others: string[];
}

// Why: a PTR query of a ClusterIP or pod IP is answered only if the kubernetes plugin's zones hold its reverse name.
export function reverseLookup(text: string, address: string): ReverseLookup | undefined {
  const name = reverseName(address);
  if (!name) return undefined;
  const holds = (zone: string) => zone === '.' || name === zone || name.endsWith(`.${zone}`);
  const specificity = (zone: string) => (zone === '.' ? 0 : zone.split('.').length);
  let best: { server: CorefileServer; depth: number } | undefined;
  for (const server of parseCorefile(text))
    for (const zone of server.zones.filter(holds))
      if (!best || specificity(zone) > best.depth) best = { server, depth: specificity(zone) };
  if (!best) return { name, served: false, others: [] };
  return {
    name,
    served: (best.server.kubernetes ?? []).some(holds),
    block: best.server.zones,
    others: best.server.plugins.filter((p) => !BOOKKEEPING.has(p)),
  };
}

function zoneOf(word: string): string {
  const zone = word
    .replace(/^(dns|tls|grpc|https):\/\//, '')
    .replace(/:\d+$/, '')
    .toLowerCase();
  return zone === '.' ? '.' : zone.replace(/\.$/, '');
}
