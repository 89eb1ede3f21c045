import { describe, expect, it } from 'vitest';
import { readPodLayer, readServiceLayer, type PathCell, type PathMatrix } from './path-matrix.js';

/** A matrix of pod-IP cells on `nodes` (one backend per node), from a pod and the node itself on each; `fails` picks the broken cells. */
function podMatrix(nodes: string[], fails: (from: PathCell['from'], to: string) => boolean): PathMatrix {
  const cells: PathCell[] = nodes.flatMap((node) =>
    (['pod', 'node'] as const).flatMap((kind) =>
      nodes.map((to, i) => {
        const from = { kind, node };
        const ok = !fails(from, to);
        return {
          from,
          hop: 'pod IP' as const,
          to,
          target: `10.244.${i + 1}.3:9376 (h-${to})`,
          ok,
          detail: ok ? 'connects' : 'timeout',
        };
      }),
    ),
  );
  return { cells, notes: [] };
}

// What each fault breaks: a node that does not forward breaks every packet it would route for pods (in or
// out), not its own; a missing route on X to Y's pods breaks X → Y and the replies of Y's pods to X's pods.
const notForwarding = (n: string) => (from: PathCell['from'], to: string) =>
  from.node !== to && (to === n || (from.node === n && from.kind === 'pod'));
const noRoute = (x: string, y: string) => (from: PathCell['from'], to: string) =>
  (from.node === x && to === y) || (from.kind === 'pod' && from.node === y && to === x);

describe('reading the pod network', () => {
  it('finds nothing in a healthy matrix', () => {
    expect(readPodLayer(podMatrix(['n1', 'n2'], () => false))).toBeUndefined();
  });

  it('on three nodes, tells a node that does not forward from a missing route', () => {
    const forwarding = readPodLayer(podMatrix(['n1', 'n2', 'n3'], notForwarding('n3')))!;
    expect(forwarding).toMatchObject({ fit: 'forwarding', nodes: ['n3'], alternatives: [] });
    const route = readPodLayer(podMatrix(['n1', 'n2', 'n3'], noRoute('n1', 'n3')))!;
    expect(route).toMatchObject({ fit: 'route', nodes: ['n1', 'n3'], alternatives: [] });
  });

  it('on two nodes, keeps both faults the matrix cannot tell apart for the node settings to decide', () => {
    const reading = readPodLayer(podMatrix(['n1', 'n2'], notForwarding('n2')))!;
    expect([{ fit: reading.fit, nodes: reading.nodes }, ...reading.alternatives]).toEqual(
      expect.arrayContaining([
        { fit: 'forwarding', nodes: ['n2'] },
        { fit: 'route', nodes: ['n1', 'n2'] },
      ]),
    );
  });

  it("names every route missing when no node reaches another node's pods", () => {
    const none = (from: PathCell['from'], to: string) => from.node !== to;
    expect(readPodLayer(podMatrix(['n1', 'n2', 'n3'], none))).toMatchObject({
      fit: 'routes',
      nodes: ['n1', 'n2', 'n3'],
    });
  });

  it('tells a node that also drops what it bridges (a filter hook br_netfilter feeds) from one that only routes', () => {
    const filtering = (from: PathCell['from'], to: string) =>
      notForwarding('n2')(from, to) || (from.kind === 'pod' && from.node === 'n2' && to === 'n2');
    expect(readPodLayer(podMatrix(['n1', 'n2', 'n3'], filtering))).toMatchObject({ fit: 'filtering', nodes: ['n2'] });
  });

  it('says which node is in every failing path when no single fault fits', () => {
    const odd = (from: PathCell['from'], to: string) => from.kind === 'pod' && from.node === 'n1' && to === 'n2';
    const reading = readPodLayer(podMatrix(['n1', 'n2', 'n3'], odd))!;
    expect(reading.fit).toBeUndefined();
    expect(reading.nodes).toEqual(['n1', 'n2']);
    expect(reading.pattern).toContain('pods on n1 reach 1/2 pod IPs off n1 and 1/1 on n1');
  });
});

describe('reading the ClusterIP', () => {
  const vip = (node: string, kind: 'pod' | 'node', to: string, ok: boolean | undefined): PathCell => ({
    from: { kind, node },
    hop: 'ClusterIP',
    to,
    target: '10.96.0.50:80',
    ok,
    detail: '',
  });
  const podIp = (node: string, kind: 'pod' | 'node', to: string): PathCell => ({
    from: { kind, node },
    hop: 'pod IP',
    to,
    target: `10.244.0.1:9376 (h-${to})`,
    ok: true,
    detail: 'connects',
  });
  const base = (['n1', 'n2'] as const).flatMap((n) =>
    (['pod', 'node'] as const).flatMap((k) => ['n1', 'n2'].map((to) => podIp(n, k, to))),
  );

  it('names the node whose VIP fails from everything on it, and ignores cells the VIP did not choose', () => {
    const cells = [
      ...base,
      vip('n1', 'pod', 'n1', false),
      vip('n1', 'pod', 'n2', false),
      vip('n1', 'node', 'n1', false),
      vip('n1', 'node', 'n2', undefined),
      vip('n2', 'pod', 'n1', true),
      vip('n2', 'node', 'n2', true),
    ];
    expect(readServiceLayer({ cells, notes: [] })).toMatchObject({ fit: 'proxy', nodes: ['n1'] });
  });

  it('does not judge the VIP from a source whose pod IPs fail', () => {
    const cells = [
      ...base.map((c) => (c.from.node === 'n1' && c.to === 'n2' ? { ...c, ok: false } : c)),
      vip('n1', 'pod', 'n2', false),
    ];
    expect(readServiceLayer({ cells, notes: [] })).toBeUndefined();
  });
});
