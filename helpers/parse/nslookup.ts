// Parses busybox `nslookup NAME` output: the server asked, the name → address answers, NXDOMAIN.
export interface NslookupResult {
  server?: string; // from `Server:`; the `Address:` line right after it is the server's too
  answers: { name: string; address: string }[];
  nxdomain: boolean;
}

// Why: a pod's own view of DNS — does the Service name resolve, and to which IP.
// Reads both busybox forms: `Address: 10.96.0.10` (1.30+) and `Address 1: 10.96.0.10 name` (older).
export function parseNslookup(text: string): NslookupResult {
  const result: NslookupResult = { answers: [], nxdomain: false };
  let serverAddressNext = false;
  let name = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const [, label, value = ''] = /^([A-Za-z]+)(?:\s+\d+)?:\s*(.*)$/.exec(line) ?? [];
    if (label === 'Server') {
      result.server = value.split(/\s+/)[0] || undefined;
      serverAddressNext = true;
      name = '';
    } else if (label === 'Name') {
      name = value;
      serverAddressNext = false;
    } else if (label === 'Address') {
      const [address, hostName] = value.split(/\s+/);
      if (serverAddressNext) serverAddressNext = false;
      else if (address) result.answers.push({ name: hostName || name, address }); // older busybox: the FQDN follows
    } else if (/NXDOMAIN/.test(line)) result.nxdomain = true;
  }
  return result;
}
