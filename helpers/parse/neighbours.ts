// `ip neigh show` output as iproute2 (a kind node, the local cluster's namespaces) and busybox (the
// kind outside client, whose `ip` has no -j) print it, one entry per line:
//   172.29.1.4 dev eth0 lladdr 02:42:ac:1d:00:03 STALE
//   172.29.1.10 dev eth0  used 0/0/0 probes 6 FAILED
//   172.29.1.252 dev eth0 INCOMPLETE
export interface Neighbour {
  dst: string;
  dev?: string;
  /** The link-layer address that answered; absent when nobody did. */
  lladdr?: string;
  /** REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP, NONE. */
  state: string[];
}

const STATES = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'PERMANENT', 'NOARP', 'NONE']);

// Why: whether anyone on the segment answered for an address (a LoadBalancer IP's speaker, or nobody).
export function parseNeighbours(text: string): Neighbour[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0)
    .map(([dst, ...rest]) => {
      const after = (word: string) => {
        const i = rest.indexOf(word);
        return i >= 0 ? rest[i + 1] : undefined;
      };
      const entry: Neighbour = { dst, state: rest.filter((w) => STATES.has(w)) };
      const [dev, lladdr] = [after('dev'), after('lladdr')];
      if (dev) entry.dev = dev;
      if (lladdr) entry.lladdr = lladdr;
      return entry;
    });
}
