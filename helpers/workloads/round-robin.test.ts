import { describe, expect, it } from 'vitest';
import { burstSize, describeDistribution, type RoundRobin } from './round-robin.js';

describe('burstSize', () => {
  it('follows N·(ln N + 3)', () => {
    expect(burstSize(1)).toBe(3);
    expect(burstSize(3)).toBe(13);
    expect(burstSize(50)).toBe(346);
  });
});

describe('describeDistribution', () => {
  it('lists each backend, the request count and the failures', () => {
    const rr: RoundRobin = {
      url: 'u',
      expected: ['a', 'b'],
      seen: { b: 2, a: 3 },
      missing: [],
      unexpected: [],
      requests: 6,
      failures: { refused: 1 },
      bursts: 1,
    };
    expect(describeDistribution(rr)).toBe('a: 3, b: 2 (6 requests; failures refused: 1)');
  });
});
