import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gaugeValue } from '../parse/prometheus.js';

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
