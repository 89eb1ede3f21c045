// Round-robin over every backend, with a bounded number of requests: bursts of
// ceil(N·(ln N + 3)) concurrent requests (the coupon-collector bound: a fair balancer
// leaves a backend unseen after one burst with probability about e^-3) until every
// backend has answered, at most MAX_BURSTS bursts (then about e^-15).
import type { Tally } from '../parse/svcprobe.js';
import type { ClientPod } from './client-pod.js';

export const MAX_BURSTS = 5;

export interface RoundRobin {
  url: string;
  expected: string[];
  seen: Record<string, number>;
  missing: string[];
  unexpected: string[];
  requests: number;
  failures: Record<string, number>;
  sampleError?: string;
  bursts: number;
}

export function burstSize(backends: number): number {
  return Math.ceil(backends * (Math.log(backends) + 3));
}

export function roundRobin(client: ClientPod, url: string, expected: string[]): Promise<RoundRobin> {
  return roundRobinWith(url, expected, (count) => client.http(url, { count, concurrency: Math.min(count, 16) }));
}

/** The same bounded round-robin over any probe: `send(count)` sends count tries, each on a new connection or socket. */
export async function roundRobinWith(
  target: string,
  expected: string[],
  send: (count: number) => Promise<Tally>,
): Promise<RoundRobin> {
  const result: RoundRobin = {
    url: target,
    expected,
    seen: {},
    missing: [...expected],
    unexpected: [],
    requests: 0,
    failures: {},
    bursts: 0,
  };
  const size = burstSize(expected.length);
  while (result.missing.length > 0 && result.bursts < MAX_BURSTS) {
    merge(result, await send(size));
    result.missing = expected.filter((name) => !result.seen[name]);
  }
  result.unexpected = Object.keys(result.seen).filter((name) => !expected.includes(name));
  return result;
}

function merge(into: RoundRobin, tally: Tally): void {
  into.bursts += 1;
  into.requests += tally.count;
  for (const [answer, n] of Object.entries(tally.answers)) into.seen[answer] = (into.seen[answer] ?? 0) + n;
  for (const [kind, n] of Object.entries(tally.errors ?? {})) into.failures[kind] = (into.failures[kind] ?? 0) + n;
  into.sampleError = tally.sampleError ?? into.sampleError;
}

/** "hostnames-a: 5, hostnames-b: 4, hostnames-c: 4 (13 requests)" */
export function describeDistribution(rr: RoundRobin): string {
  const parts = Object.entries(rr.seen)
    .sort()
    .map(([k, v]) => `${k}: ${v}`);
  const failures = Object.entries(rr.failures).map(([k, v]) => `${k}: ${v}`);
  return `${parts.join(', ') || 'no answers'} (${rr.requests} requests${failures.length ? `; failures ${failures.join(', ')}` : ''})`;
}
