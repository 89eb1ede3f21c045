// `sysctl key1 key2 …` output, one "key = value" line per key:
//   net.ipv4.ip_forward = 1
//   net.ipv4.conf.all.rp_filter = 2
//   sysctl: cannot stat /proc/sys/net/ipv4/conf/flannel.1/rp_filter: No such file or directory
// A key the node does not have is that stderr line (recorded with 2>&1), and is left out: the
// accessors then say undefined. sysctl writes an interface name's dots as slashes in the key
// (`net.ipv4.conf.eth0/100.rp_filter` for eth0.100); the accessors give it back with dots.

// Why: the node's settings a broken data path is most often explained by, by key.
export function parseSysctl(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('sysctl:')) continue;
    const equals = line.indexOf(' = ');
    if (equals <= 0) continue;
    values[line.slice(0, equals).trim()] = line.slice(equals + 3).trim();
  }
  return values;
}

export interface NodeSysctls {
  /** net.ipv4.ip_forward: without it a node routes nothing, so no pod traffic crosses it. */
  ipForward?: boolean;
  /** net.ipv4.conf.<all|default|interface>.rp_filter by the part between `conf.` and `.rp_filter`: 0 off, 1 strict, 2 loose. */
  rpFilter: Record<string, number>;
  /** net.bridge.bridge-nf-call-iptables: bridged pod-to-pod traffic passes iptables (kube-proxy's DNAT) only when 1. Absent when br_netfilter is not loaded. */
  bridgeNfCallIptables?: boolean;
  /** net.netfilter.nf_conntrack_count / nf_conntrack_max: a full table drops new connections. Both, or absent. */
  conntrack?: { count: number; max: number };
  /** net.netfilter.nf_conntrack_tcp_be_liberal: when 1, out-of-window TCP segments are not marked INVALID. */
  tcpBeLiberal?: boolean;
}

// Why: the typed view the diagnosis asks: does the node forward, which reverse-path filter, does
// bridged traffic see iptables, is the conntrack table full.
export function nodeSysctls(text: string): NodeSysctls {
  const values = parseSysctl(text);
  const rpFilter: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) {
    const match = /^net\.ipv4\.conf\.(.+)\.rp_filter$/.exec(key);
    const number = Number(value);
    if (match && value !== '' && Number.isInteger(number)) rpFilter[match[1].replaceAll('/', '.')] = number;
  }
  const count = integer(values['net.netfilter.nf_conntrack_count']);
  const max = integer(values['net.netfilter.nf_conntrack_max']);
  return {
    ipForward: flag(values['net.ipv4.ip_forward']),
    rpFilter,
    bridgeNfCallIptables: flag(values['net.bridge.bridge-nf-call-iptables']),
    conntrack: count !== undefined && max !== undefined ? { count, max } : undefined,
    tcpBeLiberal: flag(values['net.netfilter.nf_conntrack_tcp_be_liberal']),
  };
}

/**
 * The reverse-path filter the kernel applies on `iface`: the larger of `all` and the interface's
 * own value (the kernel's rule). undefined when neither was read.
 */
export function effectiveRpFilter(sysctls: NodeSysctls, iface: string): number | undefined {
  const all = sysctls.rpFilter['all'];
  const own = sysctls.rpFilter[iface];
  if (all === undefined) return own;
  return own === undefined ? all : Math.max(all, own);
}

function flag(value: string | undefined): boolean | undefined {
  return value === '1' ? true : value === '0' ? false : undefined;
}

function integer(value: string | undefined): number | undefined {
  const number = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(number) ? number : undefined;
}
