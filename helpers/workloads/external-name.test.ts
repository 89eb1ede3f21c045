import { describe, expect, it } from 'vitest';
import { assertInClusterName } from './external-name.js';

describe('assertInClusterName', () => {
  it('accepts a Service name under .svc.<domain>, with or without the final dot', () => {
    expect(() => assertInClusterName('hostnames.ns-1.svc.cluster.local', 'cluster.local')).not.toThrow();
    expect(() => assertInClusterName('hostnames.ns-1.svc.cluster.local.', 'cluster.local')).not.toThrow();
  });

  it('refuses outside hosts and look-alikes', () => {
    for (const target of [
      'example.com',
      'kubernetes.io',
      'svc.cluster.local',
      'hostnames.ns.svc.cluster.local.evil.com',
      'x.svc.other.domain',
    ]) {
      expect(() => assertInClusterName(target, 'cluster.local'), target).toThrow(
        /not a Service name inside the cluster/,
      );
    }
  });
});
