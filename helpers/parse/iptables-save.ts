// Parses `iptables-save` output into tables, chains and rules, and reads kube-proxy's
// iptables-mode view of one Service port from it: KUBE-SERVICES → KUBE-SVC-… → KUBE-SEP-….
export interface IptablesRule {
  table: string;
  chain: string;
  args: string[]; // the tokens after `-A <chain>`, double quotes removed: `--comment "a b"` → ['--comment', 'a b']
  target?: string; // the `-j` or `-g` value (undefined when the rule has none)
  comment?: string; // the `-m comment --comment` value (undefined when the rule has none)
  raw: string;
}

export interface IptablesTable {
  chains: Record<string, { policy?: string }>; // policy is absent for user chains (`-`)
  rules: IptablesRule[];
}

export interface IptablesDump {
  tables: Record<string, IptablesTable>;
}

export interface IptablesServiceRules {
  service: string; // "default/hostnames:default" as in the comments
  clusterIP?: string;
  port?: number;
  protocol?: string;
  serviceJumps: IptablesRule[]; // the KUBE-SERVICES rules for its cluster IP
  svcChain?: string; // KUBE-SVC-… (KUBE-SVL-… with internalTrafficPolicy: Local)
  endpoints: {
    chain: string; // KUBE-SEP-…
    destination: string; // "10.244.1.3:9376" from --to-destination
    probability?: number; // from -m statistic --probability; undefined for the last (remainder) one
    masqueradesSelf: boolean; // the SEP chain has the `-s <podIP>/32 … -j KUBE-MARK-MASQ` hairpin rule
  }[];
  masqueradeMark?: string; // the mark KUBE-MARK-MASQ sets, e.g. "0x4000/0x4000"
  affinitySeconds?: number; // sessionAffinity ClientIP: the `-m recent --rcheck --seconds N` jumps that come first
}

export interface ServicePortRef {
  namespace: string;
  name: string;
  portName?: string; // absent: the Service's only (or first) port; '' : the unnamed port
}

// Why: every iptables-mode check starts from the node's whole ruleset as iptables-save prints it.
export function parseIptablesSave(text: string): IptablesDump {
  const dump: IptablesDump = { tables: {} };
  let table: IptablesTable | undefined;
  let tableName = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const first = line.charCodeAt(0);
    if (first === 45 /* - */ && line.startsWith('-A ') && table) table.rules.push(parseRule(tableName, line));
    else if (first === 58 /* : */ && table) {
      const [chain, policy] = line.slice(1).split(' ', 2);
      table.chains[chain] = policy && policy !== '-' ? { policy } : {};
    } else if (first === 42 /* * */) {
      tableName = line.slice(1).trim();
      table = dump.tables[tableName] ??= { chains: {}, rules: [] };
    } else if (line.startsWith('COMMIT')) table = undefined;
  }
  return dump;
}

// `-A CHAIN args…`: the chain is the second token; target and comment are read off the args.
function parseRule(table: string, line: string): IptablesRule {
  const chainEnd = line.indexOf(' ', 3);
  const chain = chainEnd < 0 ? line.slice(3) : line.slice(3, chainEnd);
  const args = chainEnd < 0 ? [] : tokenize(line, chainEnd);
  let target: string | undefined;
  let comment: string | undefined;
  for (let i = 0; i < args.length - 1; i++) {
    const arg = args[i];
    if (arg === '-j' || arg === '-g') target = args[i + 1];
    else if (arg === '--comment') comment = args[i + 1];
  }
  return { table, chain, args, target, comment, raw: line }; // one object shape for all 100k rules: fast
}

// Why: says whether kube-proxy programmed a Service port — cluster IP jump, SVC chain, endpoints.
// A Service without endpoints has no nat rules, only filter's "has no endpoints" REJECT: that
// is returned as its serviceJumps, with no svcChain and no endpoints.
export function kubeProxyIptablesRules(dump: IptablesDump, service: ServicePortRef): IptablesServiceRules | undefined {
  const nat = groupByChain(dump.tables['nat']?.rules ?? []);
  const jumpsIn = (chains: Map<string, IptablesRule[]>) =>
    (chains.get('KUBE-SERVICES') ?? []).filter((rule) => matchesService(rule.comment, service));
  let mine = jumpsIn(nat);
  if (mine.length === 0) mine = jumpsIn(groupByChain(dump.tables['filter']?.rules ?? []));
  const first = mine.find((rule) => rule.comment?.endsWith(' cluster IP')) ?? mine[0];
  if (!first?.comment) return undefined;
  const serviceKey = commentService(first.comment);
  const destination = valueAfter(first.args, '-d');
  const svcChain = /^KUBE-SV[CL]-/.test(first.target ?? '') ? first.target : undefined;
  const jumps = svcChain ? (nat.get(svcChain) ?? []) : [];
  return {
    service: serviceKey,
    clusterIP: destination && withoutHostPrefix(destination),
    port: numberOrUndefined(valueAfter(first.args, '--dport')),
    protocol: valueAfter(first.args, '-p'),
    serviceJumps: mine.filter(
      (rule) => commentService(rule.comment ?? '') === serviceKey && valueAfter(rule.args, '-d') === destination,
    ),
    svcChain,
    // With session affinity each endpoint has a second jump (recent --rcheck) before the balanced ones.
    endpoints: jumps
      .filter((jump) => jump.target?.startsWith('KUBE-SEP-') && !jump.args.includes('--rcheck'))
      .map((jump) => endpointOf(jump, nat)),
    masqueradeMark: masqueradeMark(nat.get('KUBE-MARK-MASQ') ?? []),
    affinitySeconds: numberOrUndefined(
      jumps
        .map((jump) => (jump.args.includes('--rcheck') ? valueAfter(jump.args, '--seconds') : undefined))
        .find(Boolean),
    ),
  };
}

export interface IptablesFrontends {
  nodePorts: { port: number; protocol?: string; chain?: string }[]; // KUBE-NODEPORTS → KUBE-EXT-… (localhost duplicates left out)
  externalIPs: { ip: string; port?: number; chain?: string }[]; // KUBE-SERVICES "… external IP" rules
  loadBalancerIPs: { ip: string; port?: number; chain?: string }[]; // KUBE-SERVICES "… loadbalancer IP" rules (→ KUBE-EXT, or KUBE-FW with source ranges)
  masqueradesExternal: boolean; // the KUBE-EXT chain marks every packet for SNAT (externalTrafficPolicy: Cluster)
  externalChain?: string; // the KUBE-EXT-… chain outside traffic goes to
  dropsWithoutLocalEndpoints: boolean; // filter's "… has no local endpoints" DROP (Local, no endpoint on this node)
}

// Why: says how a Service port is reached from outside — its NodePort and externalIPs — and
// whether that path masquerades (Cluster) or keeps the client's address (Local).
export function kubeProxyIptablesFrontends(dump: IptablesDump, service: ServicePortRef): IptablesFrontends {
  const nat = groupByChain(dump.tables['nat']?.rules ?? []);
  const nodePorts = (nat.get('KUBE-NODEPORTS') ?? [])
    .filter((rule) => matchesService(rule.comment, service) && valueAfter(rule.args, '-d') === undefined)
    .map((rule) => ({
      port: Number(valueAfter(rule.args, '--dport')),
      protocol: valueAfter(rule.args, '-p'),
      chain: rule.target,
    }));
  const externalIPs = (nat.get('KUBE-SERVICES') ?? [])
    .filter((rule) => matchesService(rule.comment, service) && rule.comment?.endsWith(' external IP'))
    .map((rule) => ({
      ip: withoutHostPrefix(valueAfter(rule.args, '-d') ?? ''),
      port: numberOrUndefined(valueAfter(rule.args, '--dport')),
      chain: rule.target,
    }));
  const loadBalancerIPs = (nat.get('KUBE-SERVICES') ?? [])
    .filter((rule) => matchesService(rule.comment, service) && rule.comment?.endsWith(' loadbalancer IP'))
    .map((rule) => ({
      ip: withoutHostPrefix(valueAfter(rule.args, '-d') ?? ''),
      port: numberOrUndefined(valueAfter(rule.args, '--dport')),
      chain: rule.target,
    }));
  const extChain = [...nodePorts, ...externalIPs].map((f) => f.chain).find((c) => c?.startsWith('KUBE-EXT-'));
  // Cluster: an unconditional `-j KUBE-MARK-MASQ` (no -s, no addrtype match) in the EXT chain.
  const masqueradesExternal = (nat.get(extChain ?? '') ?? []).some(
    (rule) => rule.target === 'KUBE-MARK-MASQ' && !rule.args.includes('-s') && !rule.args.includes('addrtype'),
  );
  // externalTrafficPolicy: Local on a node without a local endpoint: filter's KUBE-EXTERNAL-SERVICES drops
  // the NodePort's traffic (KUBE-SERVICES' drop of the same comment is internalTrafficPolicy's, for the ClusterIP).
  const dropsWithoutLocalEndpoints = (dump.tables['filter']?.rules ?? []).some(
    (rule) =>
      rule.chain === 'KUBE-EXTERNAL-SERVICES' &&
      rule.target === 'DROP' &&
      matchesService(rule.comment, service) &&
      !!rule.comment?.endsWith(' has no local endpoints'),
  );
  return {
    nodePorts,
    externalIPs,
    loadBalancerIPs,
    masqueradesExternal,
    externalChain: extChain,
    dropsWithoutLocalEndpoints,
  };
}

// One `-j KUBE-SEP-…` jump of a KUBE-SVC chain, read together with the SEP chain it jumps to.
function endpointOf(jump: IptablesRule, nat: Map<string, IptablesRule[]>): IptablesServiceRules['endpoints'][number] {
  const chain = jump.target ?? '';
  const sep = nat.get(chain) ?? [];
  const destination =
    sep.map((rule) => valueAfter(rule.args, '--to-destination')).find((value) => value !== undefined) ?? '';
  const podIP = destination.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'); // "[fd00::5]:80" → "fd00::5"
  const hairpin = (rule: IptablesRule) =>
    rule.target === 'KUBE-MARK-MASQ' && withoutHostPrefix(valueAfter(rule.args, '-s') ?? '') === podIP;
  return {
    chain,
    destination,
    probability: numberOrUndefined(valueAfter(jump.args, '--probability')),
    masqueradesSelf: podIP !== '' && sep.some(hairpin),
  };
}

function groupByChain(rules: IptablesRule[]): Map<string, IptablesRule[]> {
  const byChain = new Map<string, IptablesRule[]>();
  for (const rule of rules) {
    const list = byChain.get(rule.chain);
    if (list) list.push(rule);
    else byChain.set(rule.chain, [rule]);
  }
  return byChain;
}

// Splits a rule line on blanks from `from`, keeping "double quoted" strings as one token.
// iptables-save quotes whole tokens only; a \" escape sends the line to the slower regex.
function tokenize(line: string, from: number): string[] {
  if (line.includes('\\')) {
    return [...line.slice(from).matchAll(QUOTED_OR_WORD)].map(
      ([word, quoted]) => quoted?.replace(/\\(.)/g, '$1') ?? word,
    );
  }
  const tokens: string[] = [];
  for (let i = from; i < line.length;) {
    const c = line.charCodeAt(i);
    if (c === 32 /* space */) i++;
    else {
      const quoted = c === 34; /* " */
      let end = line.indexOf(quoted ? '"' : ' ', i + 1);
      if (end < 0) end = line.length;
      tokens.push(quoted ? line.slice(i + 1, end) : (commonWord(line, i, end) ?? line.slice(i, end)));
      i = quoted ? end + 1 : end;
    }
  }
  return tokens;
}
const QUOTED_OR_WORD = /"((?:[^"\\]|\\.)*)"|[^\s"]+/g;

// Most of a kube-proxy rule is these words. Sharing one string for each, rather than a copy per
// rule, cuts a 100k-rule dump's heap by a third, and with it the garbage collector's time.
const COMMON_WORDS_BY_LENGTH: string[][] = [];
for (const word of (
  '! -m -j -g -p -d -s tcp udp sctp comment --comment --dport statistic --mode random --probability ' +
  'DNAT --to-destination KUBE-MARK-MASQ conntrack --ctstate mark --mark MARK --set-xmark RETURN ACCEPT DROP REJECT'
).split(' ')) {
  (COMMON_WORDS_BY_LENGTH[word.length] ??= []).push(word);
}
function commonWord(line: string, start: number, end: number): string | undefined {
  const words = COMMON_WORDS_BY_LENGTH[end - start];
  if (words) for (const word of words) if (line.startsWith(word, start)) return word;
  return undefined;
}

function valueAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

function withoutHostPrefix(address: string): string {
  return address.replace(/\/(32|128)$/, '');
}

function numberOrUndefined(value: string | undefined): number | undefined {
  return value === undefined || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
}

// "ns/name:port", "ns/name:port cluster IP", "ns/name -> 10.244.1.3:9376" → "ns/name:port" / "ns/name".
function commentService(comment: string): string {
  const space = comment.indexOf(' ');
  return space < 0 ? comment : comment.slice(0, space);
}

function matchesService(comment: string | undefined, service: ServicePortRef): boolean {
  const key = comment && commentService(comment);
  if (!key) return false;
  const colon = key.indexOf(':');
  if ((colon < 0 ? key : key.slice(0, colon)) !== `${service.namespace}/${service.name}`) return false;
  return service.portName === undefined || service.portName === (colon < 0 ? '' : key.slice(colon + 1));
}

function masqueradeMark(rules: IptablesRule[]): string | undefined {
  for (const rule of rules) {
    const mark =
      valueAfter(rule.args, '--set-xmark') ?? valueAfter(rule.args, '--or-mark') ?? valueAfter(rule.args, '--set-mark');
    if (mark !== undefined) return mark;
  }
  return undefined;
}
