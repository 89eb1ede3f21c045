import { describe, expect, it } from 'vitest';
import {
  addressInRange,
  canonicalIPv6,
  parseAddressRange,
  prefixLength,
  rangeContains,
  rangesOverlap,
} from './cidr.js';

const range = (text: string) => parseAddressRange(text)!;

describe('parseAddressRange', () => {
  it('reads prefixes, single addresses and ranges of both families', () => {
    expect(range('10.236.0.0/16')).toEqual({ family: 4, first: 0x0aec0000n, last: 0x0aecffffn });
    expect(range('10.236.7.9/16')).toEqual(range('10.236.0.0/16')); // host bits dropped, as iptables does
    expect(range('10.116.0.10')).toEqual({ family: 4, first: 0x0a74000an, last: 0x0a74000an });
    expect(range('10.236.0.0-10.236.255.255')).toEqual(range('10.236.0.0/16'));
    expect(range('fd00::/8')).toEqual({ family: 6, first: 0xfdn << 120n, last: (0xfen << 120n) - 1n });
    expect(range('::ffff:10.0.0.1')).toEqual(range('0:0:0:0:0:ffff:a00:1'));
  });

  it('refuses what is no address range', () => {
    for (const text of [
      '',
      'default',
      '10.0.0.0/33',
      '10.0.0/8',
      '256.0.0.0',
      '10.0.0.9-10.0.0.1',
      '1::2::3',
      '10.0.0.0/',
    ]) {
      expect(parseAddressRange(text)).toBeUndefined();
    }
  });
});

describe('ranges', () => {
  it('compare within one family', () => {
    expect(rangeContains(range('10.236.0.0/16'), range('10.236.2.0/24'))).toBe(true);
    expect(rangeContains(range('10.236.2.0/24'), range('10.236.0.0/16'))).toBe(false);
    expect(rangesOverlap(range('10.236.2.0/24'), range('10.236.0.0/16'))).toBe(true);
    expect(rangesOverlap(range('10.236.0.0/16'), range('10.237.0.0/16'))).toBe(false);
    expect(rangesOverlap(range('0.0.0.0/0'), range('::/0'))).toBe(false);
    expect(prefixLength(range('0.0.0.0/0'))).toBe(0);
    expect(prefixLength(range('10.236.4.128/25'))).toBe(25);
    expect(prefixLength(range('10.0.0.1-10.0.0.2'))).toBeUndefined();
  });
});

describe('addresses in ranges, written canonically', () => {
  it('counts from the start of a range in either family', () => {
    expect(addressInRange('10.251.0.0/24', 10)).toBe('10.251.0.10');
    expect(addressInRange('fd00:10:96::/112', 65534)).toBe('fd00:10:96::fffe');
    expect(addressInRange('fd00:10:96::/112', 65536)).toBeUndefined();
  });

  it('writes IPv6 as RFC 5952 does: lowercase, no leading zeros, the longest zero run as ::', () => {
    expect(canonicalIPv6('FD00:0010:0250:0000:0000:0000:0000:0011')).toBe('fd00:10:250::11');
    expect(canonicalIPv6('fd00:10:0:5::11')).toBe('fd00:10:0:5::11');
    expect(canonicalIPv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIPv6('::')).toBe('::');
    expect(() => canonicalIPv6('10.0.0.1')).toThrow('not an IPv6 address');
  });
});
