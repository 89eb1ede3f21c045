// CoreDNS's Corefile: which zones its `kubernetes` plugin answers for. The plugin's own zones
// when its line names them (`kubernetes cluster.local in-addr.arpa ip6.arpa {`), else the zones
// of the server block it sits in (`cluster.local:53 in-addr.arpa:53 {`). Zones come back
// without port or trailing dot, lower case.

export interface CorefileServer {
  /** The server block's zones: `cluster.local:53 .:53` → ['cluster.local', '.']. */
  zones: string[];
  /** The kubernetes plugin's zones in this block, when it has the plugin. */
  kubernetes?: string[];
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
      current = { zones: words.map(zoneOf) };
      servers.push(current);
    } else if (depth === 1 && current && words[0] === 'kubernetes') {
      const named = words.slice(1).map(zoneOf);
      current.kubernetes = named.length ? named : current.zones;
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

function zoneOf(word: string): string {
  const zone = word
    .replace(/^(dns|tls|grpc|https):\/\//, '')
    .replace(/:\d+$/, '')
    .toLowerCase();
  return zone === '.' ? '.' : zone.replace(/\.$/, '');
}
