// What a node's iptables filter FORWARD chain does with a packet conntrack marks INVALID (an
// out-of-window TCP segment a backend sends): kube-proxy drops it in KUBE-FORWARD
// (`-m conntrack --ctstate INVALID [-m nfacct …] -j DROP`), since un-NATed it would reach the
// client from the backend's pod IP, and the client would reset the connection (kubernetes#74839).
// A rule that ACCEPTs it first (`iptables -I FORWARD 1 -m conntrack --ctstate INVALID -j ACCEPT`)
// ends the packet's walk of the FORWARD hook there, so kube-proxy's drop never sees it.
//
// The walk follows FORWARD's rules in order, into the user chains they jump to (`-j`, `-g`), as an
// INVALID TCP packet between two pods would: a rule is passed over unless every condition is one
// such a packet is sure to meet:
// - `-m conntrack --ctstate …` / `-m state --state …` naming INVALID (or negated without it);
// - `-p tcp`, comments, `-m nfacct` (a counter, always true);
// - `-s`/`-d` whose range holds an address of a pod range (when pod ranges are given; without any
//   an address match is passed over: it cannot be judged).
// Interface, mark, port and other matches make a rule pass over (they may not hold for pod
// traffic): Docker's `-i docker0 -j ACCEPT`, kube-proxy's `--mark 0x4000/0x4000 -j ACCEPT` (set in
// nat, which an INVALID packet never reaches), its `--ctstate NEW` jumps.
// Only iptables matters here: an nftables `accept` ends only its own base chain, and the packet
// still meets iptables' (iptables-nft's) chain at the same hook.
import { parseIptablesSave, type IptablesRule } from './iptables-save.js';
import { parseAddressRange, rangesOverlap } from './cidr.js';

export interface InvalidForwarding {
  /** The rule that drops INVALID packets when the walk reaches it first (kube-proxy's), as iptables-save prints it. */
  dropRule?: string;
  /** A rule that accepts INVALID packets before any drop: the packet never meets kube-proxy's drop. */
  acceptRule?: string;
  /** With acceptRule: the INVALID drop it bypasses (the first in the filter table), when there is one. */
  bypassedDrop?: string;
}

const ALWAYS = new Set(['comment', 'conntrack', 'state', 'nfacct', 'tcp']);

// Why: names the rule that lets an out-of-window segment through un-NATed, ahead of kube-proxy's drop.
export function invalidForwarding(iptablesSave: string, podCIDRs: string[] = []): InvalidForwarding {
  const dump = parseIptablesSave(iptablesSave);
  const filter = dump.tables['filter'];
  if (!filter) return {};
  const userChains = new Set(Object.keys(filter.chains).filter((c) => filter.chains[c].policy === undefined));
  const pods = podCIDRs.flatMap((c) => parseAddressRange(c) ?? []);
  const rulesOf = (chain: string) => filter.rules.filter((r) => r.chain === chain);
  const visiting = new Set<string>();
  const walk = (chain: string): { accept?: IptablesRule; drop?: IptablesRule; returned?: boolean } | undefined => {
    if (visiting.has(chain)) return undefined;
    visiting.add(chain);
    try {
      for (const rule of rulesOf(chain)) {
        if (!matchesInvalid(rule, pods)) continue;
        if (rule.target === 'ACCEPT') return { accept: rule };
        if (rule.target === 'DROP' || rule.target === 'REJECT') return { drop: rule };
        if (rule.target === 'RETURN') return { returned: true };
        if (rule.target && userChains.has(rule.target)) {
          const inner = walk(rule.target);
          if (inner?.accept || inner?.drop) return inner;
          if (rule.args[rule.args.lastIndexOf(rule.target) - 1] === '-g') return { returned: true };
        }
      }
      return undefined;
    } finally {
      visiting.delete(chain);
    }
  };
  const met = walk('FORWARD');
  if (met?.drop) return { dropRule: met.drop.raw };
  if (!met?.accept) return {};
  const drop = filter.rules.find((r) => (r.target === 'DROP' || r.target === 'REJECT') && namesInvalid(r));
  return { acceptRule: met.accept.raw, ...(drop && { bypassedDrop: drop.raw }) };
}

/** The rule's ctstate/state match includes INVALID (not negated). */
function namesInvalid(rule: IptablesRule): boolean {
  const i = rule.args.findIndex((a) => a === '--ctstate' || a === '--state');
  return i >= 0 && rule.args[i - 1] !== '!' && rule.args[i + 1].split(',').includes('INVALID');
}

// Every condition of the rule holds for an INVALID TCP packet between two pods.
function matchesInvalid(rule: IptablesRule, pods: ReturnType<typeof parseAddressRange>[]): boolean {
  const { args } = rule;
  const end = args.findIndex((a) => a === '-j' || a === '-g');
  const conditions = end < 0 ? args : args.slice(0, end);
  for (let i = 0; i < conditions.length; i++) {
    const negated = conditions[i] === '!';
    const flag = negated ? conditions[++i] : conditions[i];
    const value = conditions[++i] ?? '';
    if (flag === '-m' && ALWAYS.has(value)) continue;
    if (flag === '--comment' || flag === '--nfacct-name') continue;
    if (flag === '-p' || flag === '--protocol') {
      if (negated !== (value === 'tcp' || value === 'all' || value === '6')) continue;
      return false;
    }
    if (flag === '--ctstate' || flag === '--state') {
      if (negated !== value.split(',').includes('INVALID')) continue;
      return false;
    }
    if (flag === '-s' || flag === '--source' || flag === '-d' || flag === '--destination') {
      const range = parseAddressRange(value);
      if (range && !negated && pods.some((p) => p && rangesOverlap(range, p))) continue;
      return false;
    }
    return false;
  }
  return true;
}
