import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricValue } from './kube-proxy.js';

const metrics = readFileSync(new URL('./fixtures/kube-proxy-metrics.excerpt.txt', import.meta.url), 'utf8');

describe('metricValue', () => {
  it('reads a labelled sample from kube-proxy metrics (recorded, v1.34.4)', () => {
    expect(
      metricValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv4' }),
    ).toBeCloseTo(1.7954505573790653e9, 0);
    expect(metricValue(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_count', { ip_family: 'IPv6' })).toBe(1);
  });

  it('is undefined for a metric or label that is not there', () => {
    expect(metricValue(metrics, 'no_such_metric')).toBeUndefined();
    expect(
      metricValue(metrics, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', { ip_family: 'IPv5' }),
    ).toBeUndefined();
  });
});
