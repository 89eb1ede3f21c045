// What on a node drops or rejects traffic, other than kube-proxy's and the CNI's own rules: a
// host firewall, Docker's FORWARD policy, an admin's REJECT. Read from `iptables-save` (the
// filter and raw tables) and from `nft -j list ruleset` (every other nftables table).
//
// Which rules are left out, and why:
// - iptables: chains `KUBE-*` (kube-proxy's and kubelet's: KUBE-FIREWALL's martian drop,
//   KUBE-SERVICES' reject for a Service without endpoints, KUBE-FORWARD's INVALID drop,
//   KUBE-PROXY-FIREWALL) and `CNI-*` (the CNI plugins'). A rule in a user chain counts only when a
//   built-in chain reaches that chain through `-j`/`-g` jumps; a chain nothing jumps to is never
//   evaluated.
// - nftables: kube-proxy's tables (`ip kube-proxy`, `ip6 kube-proxy`), the CNI's (any family,
//   name starting `cni`), this project's guards (`inet svc_guard`, names starting
//   `svc_conformance`), and iptables-nft's tables: on a host whose iptables is iptables-nft, the
//   rules `iptables-save` prints are also in `nft list ruleset` as `ip filter`, `ip raw`, `ip nat`,
//   `ip mangle`, `ip security` (and `ip6 …`); they are read with iptablesFirewall, so nftFirewall
//   skips those names in families ip and ip6 (an `inet filter` table, as Debian's nftables.conf
//   writes, is not iptables' and is read). A regular chain counts only when a base chain reaches it.
//
// affectsCluster: a rule can hit the cluster's traffic when it matches on no address at all, or
// when at least one of its address matches (`-s`/`-d`, `ip saddr`/`ip daddr`, negations
// complemented) overlaps a pod or Service range: `-s 203.0.113.0/24 -j DROP` does not,
// `-d 10.244.0.0/16 -j DROP` and `! -s 10.0.0.0/24 -p tcp --dport 10250 -j DROP` do. Interface,
// port and protocol matches are not judged (the rule may be narrower than `true` says); a named
// set that cannot be read counts as overlapping. Policies always affect the cluster.
//
// acceptedFirst (policies only): a DROP policy is harmless when the chain accepts the pod traffic
// before it falls to the policy (Docker's FORWARD DROP with `-A DOCKER-USER -s <podCIDR> -j
// ACCEPT`). acceptsBefore() tells, for the pod CIDRs: see its comment for what counts.
import { parseIptablesSave, type IptablesDump, type IptablesRule } from './iptables-save.js';
import { parseAddressRange, rangeContains, rangesOverlap, type AddressRange } from './cidr.js';

export interface FirewallFinding {
  /** The tool that lists it: `iptables-save` (IPv4), `ip6tables-save` (IPv6), or `nft` (table family in `table`). */
  family: 'iptables' | 'ip6tables' | 'nftables';
  table: string; // 'filter' / 'raw' for iptables; nft: '<family> <name>', e.g. 'inet host_firewall'
  chain: string; // 'FORWARD', or the nft chain name
  /**
   * The netfilter hook the chain runs at, lower case as nft writes it: 'prerouting', 'input',
   * 'forward', 'output', 'postrouting'. nft: the base chain's hook, or for a regular chain the hook
   * of a base chain that jumps to it. iptables: the built-in chain's name in lower case, or for a
   * user chain the built-in chain that reaches it. When several reach it: forward first, then
   * prerouting, input, output, postrouting (the pod-to-pod path comes first).
   */
  hook?: string;
  kind: 'policy' | 'rule'; // a base/built-in chain's policy DROP, or a rule whose verdict is drop/reject
  verdict: 'drop' | 'reject';
  /** The rule as written (the iptables-save line; the nft rule rendered as `nft list` writes it), or 'policy DROP' (iptables) / 'policy drop' (nft). */
  text: string;
  /** true when the rule can match traffic of the given pod/Service ranges (no address match, or an address match overlapping them); policies: true */
  affectsCluster: boolean;
  /** Policies only: the chain accepts each pod CIDR's new traffic before it falls to the policy (acceptsBefore; nft: the same rules). */
  acceptedFirst?: boolean;
  /** The rule's interface matches, as written (`!docker0` for a negated one), when it has any. */
  interfaces?: { in?: string; out?: string };
  /** Rules only: the one protocol it matches (`-p udp`, `meta l4proto udp`, `udp dport …`), when it names one. */
  protocol?: string;
  /** Rules only: the destination ports it matches ("53", "50-60"), when it names them (not negated). */
  dports?: string[];
}

/** The address families a finding's traffic can be: iptables IPv4, ip6tables IPv6, nft by its table's family. */
export function findingFamilies(f: FirewallFinding): (4 | 6)[] {
  if (f.family === 'iptables') return [4];
  if (f.family === 'ip6tables') return [6];
  const tableFamily = f.table.split(' ')[0];
  return tableFamily === 'ip' ? [4] : tableFamily === 'ip6' ? [6] : [4, 6];
}

/** Whether a finding can drop `protocol` traffic to `port`: it names no protocol or that one, and no ports or that one. */
export function findingMatches(f: FirewallFinding, protocol: string, port: number): boolean {
  if (f.protocol && f.protocol !== protocol) return false;
  if (!f.dports) return true;
  return f.dports.some((range) => {
    const [low, high = low] = range.split('-').map(Number);
    return port >= low && port <= high;
  });
}

export interface ClusterRanges {
  podCIDRs: string[];
  serviceCIDRs: string[];
}

/** An address match of a rule: the addresses it names, and whether it is negated. `undefined` addresses: not readable (a set). */
interface AddressMatch {
  negated: boolean;
  addresses?: AddressRange[];
}

const IPTABLES_TABLES = ['filter', 'raw'];
// Preference when several hooks reach one chain: see FirewallFinding.hook.
const HOOK_ORDER = ['forward', 'prerouting', 'input', 'output', 'postrouting'];

// ---------------------------------------------------------------------------------------------
// iptables

// Why: names the host firewall rule or Docker's FORWARD policy that drops the cluster's traffic.
// `family` says which tool printed it: ip6tables-save's output has the same form and holds IPv6's rules.
export function iptablesFirewall(
  iptablesSave: string,
  ranges: ClusterRanges,
  family: 'iptables' | 'ip6tables' = 'iptables',
): FirewallFinding[] {
  const dump = parseIptablesSave(iptablesSave);
  const cluster = clusterRanges(ranges);
  const findings: FirewallFinding[] = [];
  for (const tableName of IPTABLES_TABLES) {
    const table = dump.tables[tableName];
    if (!table) continue;
    const builtIns = Object.keys(table.chains).filter((chain) => table.chains[chain].policy !== undefined);
    const userChains = userChainsOf(dump, tableName);
    for (const chain of builtIns) {
      if (table.chains[chain].policy !== 'DROP') continue;
      findings.push({
        family,
        table: tableName,
        chain,
        hook: chain.toLowerCase(),
        kind: 'policy',
        verdict: 'drop',
        text: 'policy DROP',
        affectsCluster: true,
        acceptedFirst: acceptsBeforeIn(dump, tableName, chain, ranges.podCIDRs),
      });
    }
    const hooks = reachingHooks(
      builtIns.map((chain) => ({ chain, hook: chain.toLowerCase() })),
      (chain) => table.rules.filter((rule) => rule.chain === chain).map((rule) => jumpOf(rule, userChains)),
    );
    for (const rule of table.rules) {
      const verdict = rule.target === 'DROP' ? 'drop' : rule.target === 'REJECT' ? 'reject' : undefined;
      if (!verdict || isKubeOrCni(rule.chain) || !hooks.has(rule.chain)) continue;
      const interfaces = iptablesInterfaces(rule);
      const ports = iptablesPorts(rule);
      findings.push({
        family,
        table: tableName,
        chain: rule.chain,
        hook: hooks.get(rule.chain),
        kind: 'rule',
        verdict,
        text: rule.raw,
        affectsCluster: canMatchCluster(iptablesAddressMatches(rule), cluster),
        ...(interfaces && { interfaces }),
        ...ports,
      });
    }
  }
  return findings;
}

/**
 * Whether built-in `chain` of `table` accepts new traffic of each of `cidrs` (pod-to-pod: from
 * and to the CIDR) before it falls to its policy; false for no cidrs. For each CIDR it walks the
 * chain's rules in order, into the user chains they jump to, and stops at the first rule that
 * decides for ALL of that CIDR's traffic:
 * - it counts only rules whose sole conditions are addresses that hold for every address of the
 *   CIDR (`-s 10.244.0.0/16`, `-d 10.244.0.0/16`, `! -s 192.0.2.0/24`, none at all), comments,
 *   and a conntrack/state match that includes NEW;
 * - such a rule with ACCEPT → true; DROP or REJECT → false; RETURN ends the user chain; a jump is
 *   followed. Every other rule is passed over: kube-proxy's KUBE-FORWARD accepts only marked and
 *   RELATED,ESTABLISHED packets, Docker's ACCEPTs only `-i docker0`/`-o docker0`, a
 *   `-p tcp --dport` ACCEPT only some ports — none accepts new pod-to-pod traffic.
 * Interface matches are not judged, so `-i cni0 -j ACCEPT` is passed over too (false, though such
 * a rule would do): the diagnosis then still names the policy, which is where to look.
 */
export function acceptsBefore(iptablesSave: string, chain: string, cidrs: string[], table = 'filter'): boolean {
  return acceptsBeforeIn(parseIptablesSave(iptablesSave), table, chain, cidrs);
}

function acceptsBeforeIn(dump: IptablesDump, tableName: string, chain: string, cidrs: string[]): boolean {
  const rules = dump.tables[tableName]?.rules ?? [];
  const userChains = userChainsOf(dump, tableName);
  return acceptsFirst(
    chain,
    cidrs,
    (name) => rules.filter((rule) => rule.chain === name),
    (rule, target) => {
      if (!decidesForAll(rule, target)) return undefined;
      if (rule.target === 'ACCEPT') return 'accept';
      if (rule.target === 'DROP' || rule.target === 'REJECT') return 'drop';
      if (rule.target === 'RETURN') return 'return';
      return jumpOf(rule, userChains);
    },
  );
}

/** What a rule does with all of a target range's new traffic: a verdict, a jump, or nothing it decides. */
type Step = 'accept' | 'drop' | 'return' | { chain: string; goto: boolean } | undefined;

/**
 * Whether, for every CIDR, walking `chain`'s rules in order (into the chains they jump to) meets an
 * accept before anything drops, returns or the chain ends: one walk for both iptables and nft.
 */
function acceptsFirst<R>(
  chain: string,
  cidrs: string[],
  rulesOf: (chain: string) => R[],
  step: (rule: R, target: AddressRange) => Step,
): boolean {
  const targets = cidrs.map(parseAddressRange);
  if (targets.length === 0 || targets.some((target) => target === undefined)) return false;
  const visiting = new Set<string>();
  const walk = (name: string, target: AddressRange): 'accept' | 'drop' | 'return' | 'end' => {
    if (visiting.has(name)) return 'end';
    visiting.add(name);
    try {
      for (const rule of rulesOf(name)) {
        const next = step(rule, target);
        if (next === undefined) continue;
        if (typeof next === 'string') return next;
        const result = walk(next.chain, target);
        if (result === 'accept' || result === 'drop') return result;
        if (next.goto) return 'return'; // a goto's chain ends past this one
      }
      return 'end';
    } finally {
      visiting.delete(name);
    }
  };
  return targets.every((target) => walk(chain, target!) === 'accept');
}

// The rule's conditions hold for all new traffic from or to every address of the target range.
function decidesForAll(rule: IptablesRule, target: AddressRange): boolean {
  const { args } = rule;
  const end = args.findIndex((arg) => arg === '-j' || arg === '-g');
  const conditions = end < 0 ? args : args.slice(0, end);
  for (let i = 0; i < conditions.length; i++) {
    const negated = conditions[i] === '!';
    const flag = negated ? conditions[++i] : conditions[i];
    const value = conditions[i + 1];
    i++;
    if (flag === '-m' && (value === 'comment' || value === 'conntrack' || value === 'state')) continue;
    if (flag === '--comment') continue;
    if ((flag === '--ctstate' || flag === '--state') && !negated && value?.split(',').includes('NEW')) continue;
    if (ADDRESS_FLAGS.has(flag ?? '')) {
      const range = parseAddressRange(value ?? '');
      if (range && (negated ? !rangesOverlap(range, target) : rangeContains(range, target))) continue;
    }
    return false;
  }
  return true;
}

const ADDRESS_FLAGS = new Set(['-s', '--source', '-d', '--destination']);

// `-j CHAIN` / `-g CHAIN` to a user chain of the table (not a target such as ACCEPT, DNAT, LOG).
function jumpOf(rule: IptablesRule, userChains: Set<string>): { chain: string; goto: boolean } | undefined {
  if (!rule.target || !userChains.has(rule.target)) return undefined;
  return { chain: rule.target, goto: rule.args[rule.args.lastIndexOf(rule.target) - 1] === '-g' };
}

function userChainsOf(dump: IptablesDump, tableName: string): Set<string> {
  const chains = dump.tables[tableName]?.chains ?? {};
  return new Set(Object.keys(chains).filter((chain) => chains[chain].policy === undefined));
}

function isKubeOrCni(chain: string): boolean {
  return chain.startsWith('KUBE-') || chain.startsWith('CNI-');
}

// `-s`, `-d` and iprange's `--src-range`/`--dst-range`, each with its `!`; `-m set` as unreadable.
function iptablesAddressMatches(rule: IptablesRule): AddressMatch[] {
  const matches: AddressMatch[] = [];
  const { args } = rule;
  for (let i = 0; i < args.length; i++) {
    const negated = args[i - 1] === '!';
    const flag = args[i];
    if (ADDRESS_FLAGS.has(flag) || flag === '--src-range' || flag === '--dst-range') {
      const addresses = (args[i + 1] ?? '').split(',').map(parseAddressRange);
      matches.push({
        negated,
        addresses: addresses.every(Boolean) ? (addresses as AddressRange[]) : undefined,
      });
    } else if (flag === '--match-set') matches.push({ negated });
  }
  return matches;
}

// `-p udp`, `--dport 53`, `--dports 53,853`, `--dport 50:60` (a negated match names no port).
function iptablesPorts(rule: IptablesRule): Pick<FirewallFinding, 'protocol' | 'dports'> {
  const value = (flags: string[]) => {
    const i = rule.args.findIndex((arg) => flags.includes(arg));
    return i >= 0 && rule.args[i - 1] !== '!' ? rule.args[i + 1] : undefined;
  };
  const protocol = value(['-p', '--protocol'])?.toLowerCase();
  const dports = value(['--dport', '--destination-port', '--dports', '--destination-ports']);
  return {
    ...(protocol && protocol !== 'all' && { protocol }),
    ...(dports && { dports: dports.split(',').map((p) => p.replace(':', '-')) }),
  };
}

function iptablesInterfaces(rule: IptablesRule): FirewallFinding['interfaces'] {
  let result: FirewallFinding['interfaces'];
  rule.args.forEach((arg, i) => {
    const side =
      arg === '-i' || arg === '--in-interface' ? 'in' : arg === '-o' || arg === '--out-interface' ? 'out' : '';
    if (side) (result ??= {})[side] = `${rule.args[i - 1] === '!' ? '!' : ''}${rule.args[i + 1]}`;
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// nftables

type Json = Record<string, unknown>;

// Why: names the nftables table (a host firewall, firewalld, an admin's table) that drops the
// cluster's traffic on a node, whatever kube-proxy's mode.
// An empty text (no output) is no ruleset: []; text that is not JSON throws.
export function nftFirewall(rulesetJson: string, ranges: ClusterRanges): FirewallFinding[] {
  const ruleset: unknown = rulesetJson.trim() === '' ? {} : JSON.parse(rulesetJson);
  const items = isObject(ruleset) && Array.isArray(ruleset.nftables) ? ruleset.nftables.filter(isObject) : [];
  const of = (kind: string) => items.filter((item) => isObject(item[kind])).map((item) => item[kind] as Json);
  const cluster = clusterRanges(ranges);
  const tableKey = (o: Json) => `${String(o.family)} ${String(o.table ?? o.name)}`;
  const rulesByChain = new Map<string, Json[]>();
  for (const rule of of('rule')) {
    const key = `${tableKey(rule)} ${String(rule.chain)}`;
    const list = rulesByChain.get(key);
    if (list) list.push(rule);
    else rulesByChain.set(key, [rule]);
  }
  const sets = new Map<string, unknown[]>(); // 'inet host_firewall blocked' → its elements
  for (const set of [...of('set'), ...of('map')]) {
    sets.set(`${tableKey(set)} ${String(set.name)}`, Array.isArray(set.elem) ? set.elem : []);
  }
  const findings: FirewallFinding[] = [];
  for (const table of of('table')) {
    const family = String(table.family);
    const name = String(table.name);
    if (skippedNftTable(family, name)) continue;
    const key = `${family} ${name}`;
    const chains = of('chain').filter((chain) => tableKey(chain) === key);
    const baseChains = chains.filter((chain) => typeof chain.hook === 'string');
    const rulesOf = (chain: string) => rulesByChain.get(`${key} ${chain}`) ?? [];
    const hooks = reachingHooks(
      baseChains.map((chain) => ({ chain: String(chain.name), hook: String(chain.hook) })),
      (chain) => rulesOf(chain).flatMap((rule) => nftJumps(rule.expr)),
    );
    const readSet = (setName: string) => sets.get(`${key} ${setName}`);
    for (const chain of baseChains) {
      if (chain.policy !== 'drop') continue;
      findings.push({
        family: 'nftables',
        table: key,
        chain: String(chain.name),
        hook: String(chain.hook),
        kind: 'policy',
        verdict: 'drop',
        text: 'policy drop',
        affectsCluster: true,
        acceptedFirst: nftAcceptsBefore(String(chain.name), rulesOf, readSet, ranges.podCIDRs),
      });
    }
    for (const chain of chains) {
      const chainName = String(chain.name);
      if (!hooks.has(chainName)) continue;
      for (const rule of rulesOf(chainName)) {
        const expr = Array.isArray(rule.expr) ? rule.expr : [];
        const verdict = nftVerdict(expr);
        if (!verdict) continue;
        const interfaces = nftInterfaces(expr);
        const ports = nftPorts(expr);
        findings.push({
          family: 'nftables',
          table: key,
          chain: chainName,
          hook: hooks.get(chainName),
          kind: 'rule',
          verdict,
          text: renderRule(expr, rule.comment),
          affectsCluster: canMatchCluster(nftAddressMatches(expr, readSet), cluster),
          ...(interfaces && { interfaces }),
          ...ports,
        });
      }
    }
  }
  return findings;
}

function skippedNftTable(family: string, name: string): boolean {
  if ((family === 'ip' || family === 'ip6') && (name === 'kube-proxy' || IPTABLES_NFT_TABLES.has(name))) return true;
  return name.startsWith('cni') || name.startsWith('svc_conformance') || (family === 'inet' && name === 'svc_guard');
}
const IPTABLES_NFT_TABLES = new Set(['filter', 'raw', 'nat', 'mangle', 'security']);

// A rule's drop or reject: its final verdict, or one of the verdicts of a verdict map it applies.
function nftVerdict(expr: unknown[]): 'drop' | 'reject' | undefined {
  for (const statement of expr) {
    if (!isObject(statement)) continue;
    if ('drop' in statement) return 'drop';
    if ('reject' in statement) return 'reject';
    if (isObject(statement.vmap)) {
      const verdicts = vmapEntries(statement.vmap).map(([, verdict]) => verdict);
      if (verdicts.some((verdict) => isObject(verdict) && 'drop' in verdict)) return 'drop';
      if (verdicts.some((verdict) => isObject(verdict) && 'reject' in verdict)) return 'reject';
    }
  }
  return undefined;
}

function nftJumps(expr: unknown): { chain: string; goto: boolean }[] {
  const jumps: { chain: string; goto: boolean }[] = [];
  const verdictJump = (verdict: unknown) => {
    if (!isObject(verdict)) return;
    for (const kind of ['jump', 'goto'] as const) {
      const target = isObject(verdict[kind]) ? verdict[kind].target : undefined;
      if (typeof target === 'string') jumps.push({ chain: target, goto: kind === 'goto' });
    }
  };
  for (const statement of Array.isArray(expr) ? expr : []) {
    verdictJump(statement);
    if (isObject(statement) && isObject(statement.vmap))
      vmapEntries(statement.vmap).forEach(([, verdict]) => verdictJump(verdict));
  }
  return jumps;
}

function vmapEntries(vmap: Json): [unknown, unknown][] {
  const data = isObject(vmap.data) && Array.isArray(vmap.data.set) ? vmap.data.set : [];
  return data.filter((entry): entry is [unknown, unknown] => Array.isArray(entry) && entry.length === 2);
}

// `ip saddr 10.0.0.0/8`, `ip daddr != …`, `ip saddr { a, b }`, `ip saddr @set`, and the keys of
// `ip saddr vmap { … : drop }` that lead to drop or reject.
function nftAddressMatches(expr: unknown[], readSet: (name: string) => unknown[] | undefined): AddressMatch[] {
  const matches: AddressMatch[] = [];
  for (const statement of expr) {
    if (!isObject(statement)) continue;
    if (isObject(statement.match) && isAddressPayload(statement.match.left)) {
      matches.push({
        negated: statement.match.op === '!=',
        addresses: nftAddresses(statement.match.right, readSet),
      });
    }
    if (isObject(statement.vmap) && isAddressPayload(statement.vmap.key)) {
      const refusing = vmapEntries(statement.vmap).filter(
        ([, verdict]) => isObject(verdict) && ('drop' in verdict || 'reject' in verdict),
      );
      const addresses = refusing.map(([key]) => nftAddresses(key, readSet));
      matches.push({
        negated: false,
        addresses: addresses.every(Boolean) ? (addresses as AddressRange[][]).flat() : undefined,
      });
    }
  }
  return matches;
}

function isAddressPayload(left: unknown): boolean {
  const payload = isObject(left) ? left.payload : undefined;
  return (
    isObject(payload) &&
    (payload.protocol === 'ip' || payload.protocol === 'ip6') &&
    (payload.field === 'saddr' || payload.field === 'daddr')
  );
}

// The right side of an address match as ranges; undefined when it cannot be read.
function nftAddresses(value: unknown, readSet: (name: string) => unknown[] | undefined): AddressRange[] | undefined {
  if (typeof value === 'string') {
    if (value.startsWith('@')) {
      const elements = readSet(value.slice(1));
      return elements && nftAddresses({ set: elements }, readSet);
    }
    const range = parseAddressRange(value);
    return range && [range];
  }
  if (!isObject(value)) return undefined;
  if (isObject(value.elem)) return nftAddresses(value.elem.val, readSet);
  if (isObject(value.prefix)) {
    const range = parseAddressRange(`${String(value.prefix.addr)}/${String(value.prefix.len)}`);
    return range && [range];
  }
  if (Array.isArray(value.range) && value.range.length === 2) {
    const range = parseAddressRange(`${String(value.range[0])}-${String(value.range[1])}`);
    return range && [range];
  }
  if (Array.isArray(value.set)) {
    const parts = value.set.map((element) => nftAddresses(element, readSet));
    return parts.every(Boolean) ? (parts as AddressRange[][]).flat() : undefined;
  }
  return undefined;
}

// `udp dport 53`, `th dport { 53, 853 }`, `tcp dport 50-60`, `meta l4proto udp`, `ip protocol udp`.
function nftPorts(expr: unknown[]): Pick<FirewallFinding, 'protocol' | 'dports'> {
  let protocol: string | undefined;
  let dports: string[] | undefined;
  for (const statement of expr) {
    const match = isObject(statement) && isObject(statement.match) ? statement.match : undefined;
    if (!match || match.op === '!=' || !isObject(match.left)) continue;
    const { payload, meta } = match.left;
    if (isObject(meta) && meta.key === 'l4proto' && typeof match.right === 'string') protocol = match.right;
    if (!isObject(payload)) continue;
    if (payload.field === 'protocol' && typeof match.right === 'string') protocol = match.right;
    if (payload.field === 'dport') {
      if (payload.protocol === 'udp' || payload.protocol === 'tcp' || payload.protocol === 'sctp')
        protocol ??= String(payload.protocol);
      dports = nftPortValues(match.right);
    }
  }
  return { ...(protocol && { protocol }), ...(dports && { dports }) };
}

function nftPortValues(value: unknown): string[] | undefined {
  if (typeof value === 'number') return [String(value)];
  if (!isObject(value)) return undefined;
  if (Array.isArray(value.range) && value.range.length === 2) return [`${value.range[0]}-${value.range[1]}`];
  if (Array.isArray(value.set)) {
    const parts = value.set.map(nftPortValues);
    return parts.every(Boolean) ? (parts as string[][]).flat() : undefined;
  }
  return undefined;
}

function nftInterfaces(expr: unknown[]): FirewallFinding['interfaces'] {
  let result: FirewallFinding['interfaces'];
  for (const statement of expr) {
    const match = isObject(statement) && isObject(statement.match) ? statement.match : undefined;
    const key = match && isObject(match.left) && isObject(match.left.meta) ? match.left.meta.key : undefined;
    const side = key === 'iifname' || key === 'iif' ? 'in' : key === 'oifname' || key === 'oif' ? 'out' : '';
    if (match && side) (result ??= {})[side] = `${match.op === '!=' ? '!' : ''}${renderValue(match.right)}`;
  }
  return result;
}

// The nft counterpart of acceptsBefore: the base chain's rules in order, into the chains they
// jump to, for each pod CIDR; a rule decides for all of a CIDR's traffic when its only statements
// are counters, address matches that hold for every address of the CIDR, a `ct state` match that
// includes new, and its verdict.
function nftAcceptsBefore(
  chain: string,
  rulesOf: (chain: string) => Json[],
  readSet: (name: string) => unknown[] | undefined,
  cidrs: string[],
): boolean {
  return acceptsFirst(chain, cidrs, rulesOf, (rule, target) => {
    const expr = Array.isArray(rule.expr) ? rule.expr : [];
    if (!expr.every((statement) => nftDecidesForAll(statement, target, readSet))) return undefined;
    for (const statement of expr) {
      if (!isObject(statement)) continue;
      if ('accept' in statement) return 'accept';
      if ('drop' in statement || 'reject' in statement) return 'drop';
      if ('return' in statement) return 'return';
      const [jump] = nftJumps([statement]);
      if (jump) return jump;
    }
    return undefined;
  });
}

function nftDecidesForAll(
  statement: unknown,
  target: AddressRange,
  readSet: (name: string) => unknown[] | undefined,
): boolean {
  if (!isObject(statement)) return false;
  const keys = Object.keys(statement);
  if (keys.length !== 1) return false;
  const [kind] = keys;
  if (['counter', 'accept', 'drop', 'reject', 'return', 'jump', 'goto', 'continue'].includes(kind)) return true;
  if (kind !== 'match' || !isObject(statement.match)) return false;
  const { left, right, op } = statement.match;
  if (isObject(left) && isObject(left.ct) && left.ct.key === 'state') {
    const states = Array.isArray(right) ? right : [right];
    return op !== '!=' && states.includes('new');
  }
  if (!isAddressPayload(left)) return false;
  const addresses = nftAddresses(right, readSet);
  if (!addresses) return false;
  return op === '!='
    ? addresses.every((range) => !rangesOverlap(range, target))
    : addresses.some((range) => rangeContains(range, target));
}

// The rule as `nft list ruleset` writes it (counters without their numbers); statements this
// does not know are written as their JSON.
function renderRule(expr: unknown[], comment: unknown): string {
  const parts = expr.map(renderStatement);
  if (typeof comment === 'string') parts.push(`comment "${comment}"`);
  return parts.join(' ');
}

function renderStatement(statement: unknown): string {
  if (!isObject(statement)) return JSON.stringify(statement);
  const [kind] = Object.keys(statement);
  const body = statement[kind];
  switch (kind) {
    case 'match': {
      if (!isObject(body)) break;
      const op = body.op === '==' || body.op === 'in' ? '' : `${String(body.op)} `;
      return `${renderValue(body.left)} ${op}${renderValue(body.right, isInterfaceName(body.left))}`;
    }
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return kind;
    case 'jump':
    case 'goto':
      return isObject(body) ? `${kind} ${String(body.target)}` : kind;
    case 'counter':
      return typeof body === 'string' ? `counter name "${body}"` : 'counter';
    case 'reject': {
      if (!isObject(body)) return 'reject';
      const how = [body.type, body.expr].filter((part) => typeof part === 'string').join(' ');
      return how ? `reject with ${how}` : 'reject';
    }
    case 'vmap':
      if (!isObject(body)) break;
      return `${renderValue(body.key)} vmap ${renderValue(body.data)}`;
  }
  return JSON.stringify(statement);
}

function isInterfaceName(left: unknown): boolean {
  return isObject(left) && isObject(left.meta) && (left.meta.key === 'iifname' || left.meta.key === 'oifname');
}

const UNQUALIFIED_META = new Set(['iifname', 'oifname', 'iif', 'oif', 'mark']);

function renderValue(value: unknown, quoted = false): string {
  if (typeof value === 'string') return quoted ? `"${value}"` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, quoted)).join(',');
  if (!isObject(value)) return JSON.stringify(value);
  if (isObject(value.payload)) return `${String(value.payload.protocol)} ${String(value.payload.field)}`;
  if (isObject(value.meta)) {
    const key = String(value.meta.key);
    return UNQUALIFIED_META.has(key) ? key : `meta ${key}`;
  }
  if (isObject(value.ct)) return `ct ${String(value.ct.key)}`;
  if (isObject(value.prefix)) return `${String(value.prefix.addr)}/${String(value.prefix.len)}`;
  if (Array.isArray(value.range)) return value.range.map((bound) => renderValue(bound)).join('-');
  if (isObject(value.elem)) return renderValue(value.elem.val, quoted);
  if (Array.isArray(value.set)) {
    const elements = value.set.map((element) =>
      Array.isArray(element) && element.length === 2
        ? `${renderValue(element[0], quoted)} : ${renderStatement(element[1])}`
        : renderValue(element, quoted),
    );
    return `{ ${elements.join(', ')} }`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// shared

// Chain → the hook it runs at: base chains their own, every chain they reach (jump/goto, however
// deep) the first of HOOK_ORDER among the base chains that reach it.
function reachingHooks(
  baseChains: { chain: string; hook: string }[],
  jumpsOf: (chain: string) => ({ chain: string } | undefined)[],
): Map<string, string> {
  const hooks = new Map<string, string>();
  const rank = (hook: string) => (HOOK_ORDER.indexOf(hook) + HOOK_ORDER.length + 1) % (HOOK_ORDER.length + 1);
  const ordered = [...baseChains].sort((a, b) => rank(a.hook) - rank(b.hook));
  for (const { chain, hook } of ordered) {
    const queue = [chain];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (hooks.has(next)) continue;
      hooks.set(next, hook);
      for (const jump of jumpsOf(next)) if (jump && !hooks.has(jump.chain)) queue.push(jump.chain);
    }
  }
  return hooks;
}

function clusterRanges(ranges: ClusterRanges): AddressRange[] {
  return [...ranges.podCIDRs, ...ranges.serviceCIDRs]
    .map(parseAddressRange)
    .filter((range): range is AddressRange => range !== undefined);
}

// No address match: the rule can match anything. Otherwise one address match that can name a
// cluster address is enough (a negated one: unless it excludes every cluster range).
function canMatchCluster(matches: AddressMatch[], cluster: AddressRange[]): boolean {
  if (matches.length === 0) return true;
  return matches.some(({ negated, addresses }) => {
    if (!addresses) return true;
    return negated
      ? cluster.some((range) => !addresses.some((address) => rangeContains(address, range)))
      : addresses.some((address) => cluster.some((range) => rangesOverlap(address, range)));
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
