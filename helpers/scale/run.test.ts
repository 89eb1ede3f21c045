import { describe, expect, it } from 'vitest';
import type { BackendPod } from '../workloads/backends.js';
import { backendsFor, portKey, scaleService, scaleSlice, serviceName } from './objects.js';
import { dnsSample, quantiles, spread } from './run.js';

describe('quantiles of seconds', () => {
  it('takes the nearest rank, so p99 of 100 values is the 99th', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantiles(values)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
  });
  it('gives the one value for every quantile of one, and zeros for none', () => {
    expect(quantiles([1.2345])).toEqual({ p50: 1.235, p90: 1.235, p99: 1.235, max: 1.235 });
    expect(quantiles([])).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe('samples spread over the creation order', () => {
  it('picks evenly, never more than there are', () => {
    expect(spread(10, 5)).toEqual([0, 2, 4, 6, 8]);
    expect(spread(3, 100)).toEqual([0, 1, 2]);
    expect(new Set(spread(5000, 100)).size).toBe(100);
  });
  it("asks the cluster DNS upstream's one Service in 20: 500 of its 10,000, never none and never more", () => {
    expect([1, 60, 1000, 10_000, 20_000].map(dnsSample)).toEqual([1, 3, 50, 500, 500]);
  });
});

describe('scale objects', () => {
  const pool: BackendPod[] = [1, 2, 3].map((i) => ({ name: `b-${i}`, ip: `10.244.1.${i}`, node: 'n1', uid: `u${i}` }));

  it('gives each Service M backends of the pool, rotating', () => {
    expect(backendsFor(0, pool, 2).map((b) => b.name)).toEqual(['b-1', 'b-2']);
    expect(backendsFor(2, pool, 2).map((b) => b.name)).toEqual(['b-3', 'b-1']);
  });

  it("writes a selectorless Service and a slice owned by it, keyed as kube-proxy's rules name the port", () => {
    const service = {
      ...scaleService('ns', serviceName(7), 'r1'),
      metadata: { name: 'scale-00007', namespace: 'ns', uid: 'svc-uid' },
    };
    expect(service.spec?.selector).toBeUndefined();
    const slice = scaleSlice(service, pool.slice(0, 2), 'r1', new Date('2026-11-30T09:00:00Z'));
    expect(slice.metadata?.labels?.['kubernetes.io/service-name']).toBe('scale-00007');
    expect(slice.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Service', uid: 'svc-uid' });
    expect(slice.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']).toBe(
      '2026-11-30T09:00:00.000Z',
    );
    expect(slice.endpoints.map((e) => e.addresses[0])).toEqual(['10.244.1.1', '10.244.1.2']);
    expect(portKey('ns', 'scale-00007')).toBe('ns/scale-00007:http');
  });
});
