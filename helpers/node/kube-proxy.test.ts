import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gaugeValue } from '../parse/prometheus.js';
import { syncProblems } from './kube-proxy.js';

const metrics = readFileSync(new URL('./fixtures/kube-proxy-metrics.excerpt.txt', import.meta.url), 'utf8');

describe("gaugeValue on kube-proxy's metrics", () => {
  it('reads a labelled sample from kube-proxy metrics (recorded, v1.34.4)', () => {
    expect(gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv4' })).toBeCloseTo(
      1.7954505573790653e9,
      0,
    );
    expect(gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_count', { ip_family: 'IPv6' })).toBe(1);
  });

  it('is undefined for a metric or label that is not there', () => {
    expect(gaugeValue(metrics, 'no_such_metric')).toBeUndefined();
    expect(
      gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv5' }),
    ).toBeUndefined();
  });
});

describe('syncProblems (node-to-vip: kube-proxy synced its rules after the Service was created)', () => {
  // The recorded metrics' last sync, and a Service created 20 s before it.
  const lastSync = gaugeValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv4' })!;
  const created = Math.floor(lastSync) - 20;
  const want = ['10.244.1.3:9376', '10.244.1.4:9376'];

  it("passes when the Service's rules send it to its endpoints and the last sync is not older than it", () => {
    expect(syncProblems({ node: 'n1', created, lastSync, rules: want, want })).toEqual([]);
  });

  it('fails a periodic sync after the Service was created when its rules are not there (kube-proxy stopped watching)', () => {
    expect(syncProblems({ node: 'n1', created, lastSync, rules: [], want })).toEqual([
      'kube-proxy on n1 sends the Service to nowhere (no rules), not to its endpoints 10.244.1.3:9376, 10.244.1.4:9376',
    ]);
    expect(syncProblems({ node: 'n1', created, lastSync, rules: want.slice(0, 1), want })).toHaveLength(1);
  });

  it('fails a last sync older than the Service, and metrics without one', () => {
    expect(syncProblems({ node: 'n1', created: lastSync + 60, lastSync, rules: want, want })).toEqual([
      `kube-proxy on n1 last synced at ${new Date(lastSync * 1000).toISOString()}, before the Service was created at ${new Date((lastSync + 60) * 1000).toISOString()}`,
    ]);
    expect(syncProblems({ node: 'n1', created, rules: want, want })).toEqual([
      'kube-proxy on n1 reports no last sync time',
    ]);
  });
});
