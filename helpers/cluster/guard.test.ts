import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostTableCounters, unownedServiceIP } from './guard.js';
import { cidrsOverlap } from './local/network.js';

describe('unownedServiceIP', () => {
  it('is the last usable address of the range', () => {
    expect(unownedServiceIP('10.96.0.0/16')).toBe('10.96.255.254');
    expect(unownedServiceIP('fd00:10:96::/112')).toBe('fd00:10:96::fffe');
    expect(unownedServiceIP('10.0.0.0/24')).toBe('10.0.0.254');
  });
});

describe('cidrsOverlap', () => {
  it('tells overlapping ranges from disjoint ones', () => {
    expect(cidrsOverlap('10.96.0.0/16', '10.96.5.0/24')).toBe(true);
    expect(cidrsOverlap('10.96.0.0/16', '10.97.0.0/16')).toBe(false);
    expect(cidrsOverlap('192.0.2.0/24', '10.0.0.0/8')).toBe(false);
    expect(cidrsOverlap('10.0.0.0/8', '10.250.0.7/32')).toBe(true);
  });
});

describe('hostTableCounters', () => {
  it('sums the prerouting and forward drops, and the postrouting drops, of the kind guard table', () => {
    const recorded = readFileSync(new URL('../parse/fixtures/nft-kind-guard.json', import.meta.url), 'utf8');
    expect(hostTableCounters(recorded)).toEqual({ fabricRejected: 84, uplinkStopped: 0 });
  });
});
