import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gaugeValue, histogramDelta, histogramQuantile, parseHistogram, residentMemoryBytes } from './prometheus.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
// kube-proxy (iptables mode) scraped before and after 50 selectorless Services with hand-written EndpointSlices.
const before = fixture('metrics.kube-proxy.before.txt');
const after = fixture('metrics.kube-proxy.after.txt');
const PROGRAMMING = 'kubeproxy_network_programming_duration_seconds';
const SYNC = 'kubeproxy_sync_proxy_rules_duration_seconds';
const IPv4 = { ip_family: 'IPv4' };

describe('parseHistogram (recorded kube-proxy v1.34.4 /metrics)', () => {
  it('reads buckets (cumulative, sorted, +Inf last as Infinity), sum and count', () => {
    const h = parseHistogram(after, PROGRAMMING, IPv4)!;
    expect(h.count).toBe(67);
    expect(h.sum).toBeCloseTo(57.920308708, 9);
    expect(h.buckets).toHaveLength(82); // le 0, 0.25, 0.5, 1…60 by 1, 65…120 by 5, 150…300 by 30, +Inf
    expect(h.buckets.slice(0, 5)).toEqual([
      { le: 0, count: 0 },
      { le: 0.25, count: 1 },
      { le: 0.5, count: 16 },
      { le: 1, count: 43 },
      { le: 2, count: 66 },
    ]);
    expect(h.buckets.at(-2)).toEqual({ le: 300, count: 67 });
    expect(h.buckets.at(-1)).toEqual({ le: Infinity, count: 67 });
  });

  it('sums the series that carry the given labels: no labels, both IP families', () => {
    const v4 = parseHistogram(after, SYNC, IPv4)!;
    const v6 = parseHistogram(after, SYNC, { ip_family: 'IPv6' })!;
    const both = parseHistogram(after, SYNC)!;
    expect([v4.count, v6.count, both.count]).toEqual([26, 1, 27]);
    expect(both.sum).toBeCloseTo(v4.sum + v6.sum, 12);
    expect(both.buckets.map((b) => b.count)).toEqual(v4.buckets.map((b, i) => b.count + v6.buckets[i].count));
    expect(v4.buckets.map((b) => b.le)).toEqual([
      0.001,
      0.002,
      0.004,
      0.008,
      0.016,
      0.032,
      0.064,
      0.128,
      0.256,
      0.512,
      1.024,
      2.048,
      4.096,
      8.192,
      16.384,
      Infinity,
    ]);
  });

  it('reads the partial and full sync variants; IPv6 has a full sync but no partial series at all', () => {
    expect(parseHistogram(after, 'kubeproxy_sync_partial_proxy_rules_duration_seconds', IPv4)?.count).toBe(25);
    expect(parseHistogram(after, 'kubeproxy_sync_full_proxy_rules_duration_seconds', IPv4)?.count).toBe(1);
    expect(
      parseHistogram(after, 'kubeproxy_sync_full_proxy_rules_duration_seconds', { ip_family: 'IPv6' })?.count,
    ).toBe(1);
    expect(parseHistogram(after, 'kubeproxy_sync_partial_proxy_rules_duration_seconds', { ip_family: 'IPv6' })).toBe(
      undefined,
    );
  });

  it('returns undefined for a name that is not there or a prefix of one', () => {
    expect(parseHistogram(after, 'kubeproxy_nosuch_seconds')).toBeUndefined();
    expect(parseHistogram(after, 'kubeproxy_network_programming')).toBeUndefined();
    expect(parseHistogram('', PROGRAMMING)).toBeUndefined();
  });

  it('reads label values with escapes, commas and braces (constructed in the exposition format)', () => {
    const text = [
      '# HELP x_seconds A "quoted" help',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{path="/a,b{c}",msg="say \\"hi\\"\\n",le="0.5"} 1',
      'x_seconds_bucket{path="/a,b{c}",msg="say \\"hi\\"\\n",le="+Inf"} 2 1700000000000',
      'x_seconds_sum{path="/a,b{c}",msg="say \\"hi\\"\\n"} 1.5e+00',
      'x_seconds_count{path="/a,b{c}",msg="say \\"hi\\"\\n"} 2',
    ].join('\r\n');
    expect(parseHistogram(text, 'x_seconds', { path: '/a,b{c}', msg: 'say "hi"\n' })).toEqual({
      buckets: [
        { le: 0.5, count: 1 },
        { le: Infinity, count: 2 },
      ],
      sum: 1.5,
      count: 2,
    });
  });
});

describe('histogramDelta', () => {
  it('gives what kube-proxy observed between the two scrapes: one network-programming sample per Service', () => {
    const delta = histogramDelta(parseHistogram(before, PROGRAMMING, IPv4), parseHistogram(after, PROGRAMMING, IPv4)!);
    expect(delta.count).toBe(50);
    expect(delta.sum).toBeCloseTo(39.449588799, 6);
    expect(delta.buckets.slice(0, 5)).toEqual([
      { le: 0, count: 0 },
      { le: 0.25, count: 0 },
      { le: 0.5, count: 9 },
      { le: 1, count: 36 },
      { le: 2, count: 50 },
    ]);
    expect(delta.buckets.at(-1)).toEqual({ le: Infinity, count: 50 });
  });

  it('returns `after` itself when there is no `before` or kube-proxy restarted (its count went down)', () => {
    const later = parseHistogram(after, PROGRAMMING)!;
    expect(histogramDelta(undefined, later)).toBe(later);
    expect(histogramDelta(later, parseHistogram(before, PROGRAMMING)!)).toEqual(parseHistogram(before, PROGRAMMING));
  });

  it('counts a bucket missing before as 0 there', () => {
    const a = { buckets: [{ le: 1, count: 2 }], sum: 1, count: 2 };
    const b = {
      buckets: [
        { le: 1, count: 3 },
        { le: Infinity, count: 5 },
      ],
      sum: 4,
      count: 5,
    };
    expect(histogramDelta(a, b)).toEqual({
      buckets: [
        { le: 1, count: 1 },
        { le: Infinity, count: 5 },
      ],
      sum: 3,
      count: 3,
    });
  });
});

describe('histogramQuantile (as PromQL histogram_quantile)', () => {
  const programming = histogramDelta(parseHistogram(before, PROGRAMMING, IPv4), parseHistogram(after, PROGRAMMING)!);
  const sync = histogramDelta(parseHistogram(before, SYNC, IPv4), parseHistogram(after, SYNC, IPv4)!);

  it('interpolates inside the bucket the rank falls in (recorded deltas)', () => {
    // p50 of 50: rank 25 in (0.5, 1] holding 27 of them after 9 → 0.5 + 0.5 × 16/27.
    expect(histogramQuantile(0.5, programming)).toBeCloseTo(0.5 + (0.5 * 16) / 27, 12);
    // p99: rank 49.5 in (1, 2] holding 14 after 36 → 1 + 13.5/14.
    expect(histogramQuantile(0.99, programming)).toBeCloseTo(1 + 13.5 / 14, 12);
    // 11 syncs: 1 in (0.016, 0.032], 9 in (0.032, 0.064], 1 in (0.064, 0.128].
    expect(sync.count).toBe(11);
    expect(histogramQuantile(0.5, sync)).toBeCloseTo(0.032 + 0.032 * (4.5 / 9), 12);
    expect(histogramQuantile(0.99, sync)).toBeCloseTo(0.064 + 0.064 * 0.89, 12);
  });

  it('answers the highest finite le when the rank falls in +Inf, and the le itself for a first le ≤ 0', () => {
    const h = {
      buckets: [
        { le: 0, count: 2 },
        { le: 1, count: 4 },
        { le: 2, count: 5 },
        { le: Infinity, count: 10 },
      ],
      sum: 0,
      count: 10,
    };
    expect(histogramQuantile(0.99, h)).toBe(2);
    expect(histogramQuantile(0.1, h)).toBe(0);
    expect(histogramQuantile(0.3, h)).toBeCloseTo(0.5, 12);
    expect(histogramQuantile(1, h)).toBe(2);
  });

  it('starts the first bucket at 0, forces counts monotonic and merges equal bounds', () => {
    const h = {
      buckets: [
        { le: Infinity, count: 4 },
        { le: 4, count: 4 },
        { le: 2, count: 1 },
        { le: 1, count: 3 },
        { le: 2, count: 1 },
      ],
      sum: 0,
      count: 4,
    };
    // Sorted and merged: 1 → 3, 2 → 1 + 1 = 2, forced up to 3, 4 → 4, +Inf → 4.
    expect(histogramQuantile(0.25, h)).toBeCloseTo(1 / 3, 12);
    // rank 3.6 in (2, 4]: 1 there after 3 → 2 + 2 × 0.6 (unforced it would be 2 + 2 × 1.6/2).
    expect(histogramQuantile(0.9, h)).toBeCloseTo(3.2, 12);
  });

  it('is undefined with no observations, no +Inf bucket, or fewer than two buckets; ±Infinity for q outside [0, 1]', () => {
    const empty = histogramDelta(parseHistogram(after, PROGRAMMING), parseHistogram(after, PROGRAMMING)!);
    expect(empty.count).toBe(0);
    expect(histogramQuantile(0.5, empty)).toBeUndefined();
    expect(histogramQuantile(0.5, { buckets: [{ le: 1, count: 3 }], sum: 1, count: 3 })).toBeUndefined();
    expect(histogramQuantile(0.5, { buckets: [{ le: Infinity, count: 3 }], sum: 1, count: 3 })).toBeUndefined();
    expect(histogramQuantile(-0.1, programming)).toBe(-Infinity);
    expect(histogramQuantile(1.1, programming)).toBe(Infinity);
    expect(histogramQuantile(NaN, programming)).toBeUndefined();
  });
});

describe('gaugeValue and residentMemoryBytes', () => {
  it('reads kube-proxy`s resident memory and a labelled gauge', () => {
    expect(residentMemoryBytes(before)).toBe(63_897_600);
    expect(residentMemoryBytes(after)).toBe(64_290_816);
    expect(gaugeValue(after, 'kubeproxy_sync_proxy_rules_iptables_total', { ip_family: 'IPv4', table: 'nat' })).toBe(
      619,
    );
    expect(gaugeValue(after, 'kubeproxy_sync_proxy_rules_iptables_total')).toBe(5); // the first sample: IPv4 filter
    expect(gaugeValue(after, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', IPv4)).toBeGreaterThan(1.7e9);
  });

  it('returns undefined for a missing gauge, label or prefix', () => {
    expect(gaugeValue(after, 'process_resident_memory')).toBeUndefined();
    expect(gaugeValue(after, 'kubeproxy_sync_proxy_rules_iptables_total', { table: 'mangle' })).toBeUndefined();
    expect(residentMemoryBytes('')).toBeUndefined();
  });
});
