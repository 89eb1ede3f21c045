// Indexes every Service port kube-proxy has programmed on a node, from one whole dump: a scale
// run polls each node and must tell, for thousands of Services at once, which are in place.
// Both readers make one pass over the text and look only at the lines they need.

/** What kube-proxy has programmed on one node, per Service port: "namespace/name:portName" → its frontends and DNAT destinations. */
export interface ProgrammedPort {
  clusterIPs: string[]; // sorted
  destinations: string[]; // "10.244.1.3:9376", sorted; [] for a port kube-proxy rejects for having no endpoints
}

export interface ProxyIndex {
  ports: Map<string, ProgrammedPort>; // key "ns/name:portName"; an unnamed port is "ns/name:"
  ruleCount: number; // kube-proxy's rules in the dump: see iptablesProxyIndex and nftProxyIndex
}

// Why: iptables mode. A port is indexed when KUBE-SERVICES has its cluster IP: the nat jump
// (`--comment "ns/name:port cluster IP" -j KUBE-SVC-…`, KUBE-SVL-… for internalTrafficPolicy:
// Local) or, with no endpoints, filter's REJECT/DROP ("… has no endpoints" / "… has no local
// endpoints"). Its destinations are the `-j DNAT --to-destination` of the KUBE-SEP-… chains that
// KUBE-SVC-… jumps to (affinity's extra jumps to the same chains counted once).
// ruleCount: the `-A` lines of chains named KUBE-*, every table — the sum over tables of the
// kubeproxy_sync_proxy_rules_iptables_total gauge kube-proxy reports for the same moment.
export function iptablesProxyIndex(iptablesSave: string): ProxyIndex {
  const vips: { key: string; ip: string; chain?: string }[] = [];
  const sepsOf = new Map<string, string[]>(); // KUBE-SVC-… → the KUBE-SEP-… chains it jumps to
  const destinationOf = new Map<string, string>(); // KUBE-SEP-… → "ip:port"
  let table = '';
  let ruleCount = 0;
  forEachLine(iptablesSave, (text, start, end) => {
    const first = text.charCodeAt(start);
    if (first === 42 /* * */) table = text.slice(start + 1, end).trim();
    if (first !== 45 /* - */ || !text.startsWith('-A KUBE-', start)) return;
    ruleCount++;
    const chainEnd = indexOrEnd(text, ' ', start + 3, end);
    const chain = text.slice(start + 3, chainEnd);
    if (chain === 'KUBE-SERVICES') {
      const comment = commentOf(text, chainEnd, end);
      if (!comment) return;
      const jumpTo = targetOf(text, comment.end, end);
      const natJump = table === 'nat' && comment.text.endsWith(' cluster IP') && /^KUBE-SV[CL]-/.test(jumpTo ?? '');
      const noEndpoints =
        table === 'filter' &&
        (comment.text.endsWith(' has no endpoints') || comment.text.endsWith(' has no local endpoints'));
      const ip = natJump || noEndpoints ? destinationAddress(text, chainEnd, comment.start) : undefined;
      if (ip) vips.push({ key: portKey(comment.text), ip, chain: natJump ? jumpTo : undefined });
    } else if (chain.startsWith('KUBE-SVC-') || chain.startsWith('KUBE-SVL-')) {
      const sep = targetOf(text, chainEnd, end);
      if (!sep?.startsWith('KUBE-SEP-')) return;
      const seps = sepsOf.get(chain);
      if (!seps) sepsOf.set(chain, [sep]);
      else if (!seps.includes(sep)) seps.push(sep);
    } else if (chain.startsWith('KUBE-SEP-')) {
      const at = text.indexOf(' --to-destination ', chainEnd);
      if (at >= 0 && at < end) {
        const from = at + ' --to-destination '.length;
        destinationOf.set(chain, text.slice(from, indexOrEnd(text, ' ', from, end)));
      }
    }
  });
  const ports = new Map<string, ProgrammedPort>();
  for (const { key, ip, chain } of vips) {
    const destinations = (sepsOf.get(chain ?? '') ?? []).flatMap((sep) => destinationOf.get(sep) ?? []);
    addPort(ports, key, ip, destinations);
  }
  return { ports: sorted(ports), ruleCount };
}

// Why: nftables mode, the text of `nft list table ip kube-proxy` (ip6 the same). A port is indexed
// when the service-ips map sends one of its cluster IPs to its chain (`<ip> . tcp . 80 : goto
// service-HASH-ns/name/tcp/port`, local-HASH-… for internalTrafficPolicy: Local), or, with no
// endpoints, when no-endpoint-services holds a cluster IP (one of the cluster-ips set) with the
// port's name as comment. Its destinations are the `dnat to <ip>:<port>` of the endpoint-…
// chains its chain goes to (the numgen vmap, and affinity's `goto`s to the same chains).
// ruleCount: the rule lines of every chain (not `chain … {`, `}`, the `type … hook …` line or the
// chain's own `comment "…"` line) plus every element of every set and map in the table.
export function nftProxyIndex(nftListTable: string): ProxyIndex {
  const serviceIps: { ip: string; chain: string }[] = [];
  const noEndpoints: { ip: string; key: string }[] = [];
  const clusterIPs = new Set<string>();
  const endpointsOf = new Map<string, string[]>(); // service-… / local-… chain → endpoint-… chains
  const destinationOf = new Map<string, string>(); // endpoint-… chain → "ip:port"
  let ruleCount = 0;
  let block: { kind: 'chain' | 'set' | 'map'; name: string } | undefined;
  let elements: string | undefined; // an `elements = { … }` list being read, until its `}`
  const takeElements = (list: string) => {
    for (const element of list.split(',')) {
      const item = element.trim();
      if (!item) continue;
      ruleCount++;
      if (block?.name === 'cluster-ips') clusterIPs.add(item);
      else if (block?.name === 'service-ips') {
        const match = SERVICE_IPS_ELEMENT.exec(item);
        if (match && POLICY_CHAIN.test(match[2])) serviceIps.push({ ip: match[1], chain: match[2] });
      } else if (block?.name === 'no-endpoint-services') {
        const match = NO_ENDPOINT_ELEMENT.exec(item);
        if (match) noEndpoints.push({ ip: match[1], key: portKey(match[2]) });
      }
    }
  };
  forEachLine(nftListTable, (text, start, end) => {
    const line = text.slice(start, end).trim();
    if (elements !== undefined) {
      const close = line.indexOf('}');
      if (close < 0) elements += ` ${line}`;
      else {
        takeElements(`${elements} ${line.slice(0, close)}`);
        elements = undefined;
      }
      return;
    }
    if (!block) {
      const open = BLOCK_OPEN.exec(line);
      if (open) block = { kind: open[1] as 'chain' | 'set' | 'map', name: open[2] };
      return;
    }
    if (line === '}') block = undefined;
    else if (block.kind !== 'chain') {
      if (line.startsWith('elements = {')) {
        const list = line.slice('elements = {'.length);
        const close = list.indexOf('}');
        if (close < 0) elements = list;
        else takeElements(list.slice(0, close));
      }
    } else if (line !== '' && !line.startsWith('type ') && !line.startsWith('comment "')) {
      ruleCount++;
      const chain = block.name;
      if (chain.startsWith('endpoint-')) {
        const dnat = DNAT.exec(line);
        if (dnat) destinationOf.set(chain, dnat[1]);
      } else if (POLICY_CHAIN.test(chain)) {
        for (const [, target] of line.matchAll(GOTO_ENDPOINT)) {
          const targets = endpointsOf.get(chain);
          if (!targets) endpointsOf.set(chain, [target]);
          else if (!targets.includes(target)) targets.push(target);
        }
      }
    }
  });
  const ports = new Map<string, ProgrammedPort>();
  for (const { ip, chain } of serviceIps) {
    const destinations = (endpointsOf.get(chain) ?? []).flatMap((endpoint) => destinationOf.get(endpoint) ?? []);
    addPort(ports, chainPortKey(chain), ip, destinations);
  }
  // External IPs without endpoints land in the same map with the same comment: cluster IPs only.
  for (const { ip, key } of noEndpoints) if (clusterIPs.has(ip)) addPort(ports, key, ip, []);
  return { ports: sorted(ports), ruleCount };
}

// `chain NAME {`, `set NAME {`, `map NAME {` (the `table … {` line itself opens nothing we read).
const BLOCK_OPEN = /^(chain|set|map) (\S+) \{$/;
// service-HASH-ns/name/proto/port (ClusterIP traffic) or local-HASH-… (internalTrafficPolicy: Local).
const POLICY_CHAIN = /^(?:service|local)-[A-Z0-9]{8}-/;
// `10.96.0.10 . tcp . 53 : goto service-…` (an element of service-ips).
const SERVICE_IPS_ELEMENT = /^(\S+) \. \S+ \. \S+ : goto (\S+)$/;
// `10.96.7.7 . tcp . 80 comment "default/empty:http" : goto reject-chain` (no-endpoint-services).
const NO_ENDPOINT_ELEMENT = /^(\S+) \. \S+ \. \S+ comment "([^"]*)" : \S+/;
// `meta l4proto tcp dnat to 10.244.1.3:9376` (ip6: `dnat to [fd00::3]:9376`).
const DNAT = /\bdnat (?:ip6? )?to (\S+)/;
const GOTO_ENDPOINT = /goto (endpoint-[^\s,}]+)/g;

// "ns/name:port", "ns/name:port cluster IP", "ns/name has no endpoints" → "ns/name:port" / "ns/name:".
// kube-proxy writes an unnamed port as "ns/name" in comments and "ns/name/tcp/" in chain names.
function portKey(text: string): string {
  const space = text.indexOf(' ');
  const name = space < 0 ? text : text.slice(0, space);
  return name.includes(':') ? name : `${name}:`;
}

// service-HASH-ns/name/tcp/port → "ns/name:port" (the protocol is not part of the key: a port's
// name is unique within its Service).
function chainPortKey(chain: string): string {
  const [namespace, name, , portName] = chain.replace(POLICY_CHAIN, '').split('/');
  return `${namespace}/${name}:${portName ?? ''}`;
}

function addPort(ports: Map<string, ProgrammedPort>, key: string, ip: string, destinations: string[]): void {
  const port = ports.get(key);
  if (!port) ports.set(key, { clusterIPs: [ip], destinations });
  else {
    if (!port.clusterIPs.includes(ip)) port.clusterIPs.push(ip);
    for (const destination of destinations)
      if (!port.destinations.includes(destination)) port.destinations.push(destination);
  }
}

function sorted(ports: Map<string, ProgrammedPort>): Map<string, ProgrammedPort> {
  for (const port of ports.values()) {
    port.clusterIPs.sort();
    port.destinations = [...new Set(port.destinations)].sort();
  }
  return ports;
}

// Calls `visit` with each line's bounds in `text` (no array of 100k lines, no copies); \r\n too.
function forEachLine(text: string, visit: (text: string, start: number, end: number) => void): void {
  for (let start = 0; start < text.length;) {
    let next = text.indexOf('\n', start);
    if (next < 0) next = text.length;
    const end = next > start && text.charCodeAt(next - 1) === 13 /* \r */ ? next - 1 : next;
    visit(text, start, end);
    start = next + 1;
  }
}

function indexOrEnd(text: string, search: string, from: number, end: number): number {
  const at = text.indexOf(search, from);
  return at < 0 || at > end ? end : at;
}

// The `--comment` value of a rule (quoted, as iptables-save writes it, or a single word).
function commentOf(text: string, from: number, end: number): { text: string; start: number; end: number } | undefined {
  const at = text.indexOf(' --comment ', from);
  if (at < 0 || at >= end) return undefined;
  const valueStart = at + ' --comment '.length;
  if (text.charCodeAt(valueStart) === 34 /* " */) {
    const close = indexOrEnd(text, '"', valueStart + 1, end);
    return { text: text.slice(valueStart + 1, close), start: at, end: close + 1 };
  }
  const close = indexOrEnd(text, ' ', valueStart, end);
  return { text: text.slice(valueStart, close), start: at, end: close };
}

// The `-j` target after `from` (after the comment, so that a comment's words are never read as flags).
function targetOf(text: string, from: number, end: number): string | undefined {
  const at = text.indexOf(' -j ', from);
  if (at < 0 || at >= end) return undefined;
  return text.slice(at + 4, indexOrEnd(text, ' ', at + 4, end));
}

// The `-d` address of a rule, before `before`, without its /32 (/128) host prefix.
function destinationAddress(text: string, from: number, before: number): string | undefined {
  const at = text.indexOf(' -d ', from);
  if (at < 0 || at >= before) return undefined;
  const address = text.slice(at + 4, indexOrEnd(text, ' ', at + 4, before));
  return address.replace(/\/(32|128)$/, '');
}
