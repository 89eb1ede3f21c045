import { describe, expect, it } from 'vitest';
import { firstHost, hostInRange } from './nodes.js';

describe('hostInRange', () => {
  it('counts addresses from the start of an IPv4 range', () => {
    expect(firstHost('10.244.1.0/24')).toBe('10.244.1.1');
    expect(hostInRange('10.251.0.0/24', 10)).toBe('10.251.0.10');
    expect(hostInRange('10.0.255.0/23', 300)).toBe('10.1.0.44');
  });

  it('gives nothing past the end of the range or for IPv6', () => {
    expect(hostInRange('10.251.0.0/30', 4)).toBeUndefined();
    expect(firstHost('fd00:10:244::/64')).toBeUndefined();
  });
});
