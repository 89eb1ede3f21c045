// Address ranges as the node-layer parsers meet them: "10.244.0.0/16", "10.96.0.10",
// "10.244.0.0-10.244.255.255", "fd00::/8". Each becomes an inclusive interval of one family,
// so prefixes, single addresses and nft ranges compare the same way.
export interface AddressRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

// Why: every address in a rule or route is compared with the cluster's pod and Service ranges.
// "a.b.c.d", "a.b.c.d/n", "a.b.c.d-e.f.g.h" and their IPv6 forms; undefined for anything else.
export function parseAddressRange(text: string): AddressRange | undefined {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const first = parseAddress(text.slice(0, dash));
    const last = parseAddress(text.slice(dash + 1));
    return first && last && first.family === last.family && first.value <= last.value
      ? { family: first.family, first: first.value, last: last.value }
      : undefined;
  }
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = address.family === 4 ? 32 : 128;
  const length = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(length) || length < 0 || length > bits || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1))))
    return undefined;
  const hostBits = BigInt(bits - length);
  const first = (address.value >> hostBits) << hostBits;
  return { family: address.family, first, last: first + (1n << hostBits) - 1n };
}

/** The prefix length of a range that is one whole prefix (10.244.2.0/24 → 24); undefined otherwise. */
export function prefixLength(range: AddressRange): number | undefined {
  const size = range.last - range.first + 1n;
  const hostBits = size.toString(2).length - 1;
  const whole = size === 1n << BigInt(hostBits) && range.first % size === 0n;
  return whole ? (range.family === 4 ? 32 : 128) - hostBits : undefined;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(outer: AddressRange, inner: AddressRange): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

/** The address `offset` past the start of a range ("10.251.0.0/24", 10 → "10.251.0.10"; "fd00:10:251::/112", 10 → "fd00:10:251::a"); undefined past its end. */
export function addressInRange(cidr: string, offset: number): string | undefined {
  const range = parseAddressRange(cidr);
  if (!range || offset < 0) return undefined;
  const value = range.first + BigInt(offset);
  if (value > range.last) return undefined;
  return formatAddress(range.family, value);
}

/** An address in its canonical text: dotted IPv4, or RFC 5952 IPv6 (lowercase, the longest zero run as "::"). */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => (value >> shift) & 0xffffn);
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const text = groups.map((g) => g.toString(16));
  if (best.start < 0) return text.join(':');
  return `${text.slice(0, best.start).join(':')}::${text.slice(best.start + best.length).join(':')}`;
}

/** An IPv6 address in its canonical text form (RFC 5952). */
export function canonicalIPv6(address: string): string {
  const value = parseIPv6(address);
  if (value === undefined) throw new Error(`not an IPv6 address: ${address}`);
  return formatAddress(6, value);
}

function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  if (text.includes(':')) {
    const value = parseIPv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

// Eight groups of hex, "::" for a run of zero groups, and an IPv4 tail ("::ffff:10.0.0.1").
function parseIPv6(text: string): bigint | undefined {
  let groups = text;
  let tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseIPv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    groups = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = groups.split('::');
  if (halves.length > 2) return undefined;
  const split = (half: string) => (half === '' ? [] : half.split(':'));
  const head = split(halves[0]);
  const rest = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  const value = all.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n);
  return tail === undefined ? value : (value & ~0xffffffffn) | tail;
}
