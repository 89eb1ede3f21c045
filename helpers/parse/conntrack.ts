// `conntrack -L` output, one flow per line: the original direction (what the client sent, to
// the ClusterIP) and the reply direction (who answers: after kube-proxy's DNAT, the backend).
//   udp 17 27 src=10.244.1.44 dst=10.96.26.24 sport=23508 dport=80 src=10.244.1.41 dst=10.244.1.44 sport=9376 dport=23508 mark=0 use=1

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  protocol: string;
  /** Seconds until the entry expires. */
  timeout: number;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** [UNREPLIED], [ASSURED]: without the brackets. */
  flags: string[];
}

export function parseConntrack(text: string): ConntrackEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(tcp|udp|sctp|icmp|icmpv6)\s/.test(line))
    .map(parseLine);
}

function parseLine(line: string): ConntrackEntry {
  const words = line.split(/\s+/);
  const tuples: ConntrackTuple[] = [];
  const flags: string[] = [];
  for (const word of words.slice(3)) {
    const flag = /^\[(\w+)\]$/.exec(word);
    if (flag) flags.push(flag[1]);
    const [key, value] = word.split('=');
    if (key === 'src') tuples.push({ src: value, dst: '' });
    const tuple = tuples.at(-1);
    if (!tuple || value === undefined) continue;
    if (key === 'dst') tuple.dst = value;
    if (key === 'sport') tuple.sport = Number(value);
    if (key === 'dport') tuple.dport = Number(value);
  }
  // TCP lines carry a state word (ESTABLISHED) before the tuples; its position does not matter here.
  const timeout = Number(words[2]);
  return { protocol: words[0], timeout, original: tuples[0], reply: tuples[1] ?? { src: '', dst: '' }, flags };
}

/** The entry of the flow from `sourcePort` to `destination` (the ClusterIP), if the node has one. */
export function flowEntry(
  entries: ConntrackEntry[],
  destination: string,
  sourcePort: number,
): ConntrackEntry | undefined {
  return entries.find((e) => e.original.dst === destination && e.original.sport === sourcePort);
}
