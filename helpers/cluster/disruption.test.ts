import { describe, expect, it } from 'vitest';
import { readSettings } from '../settings.js';
import { clusterFromHandle, type Cluster } from './cluster.js';
import { disruptionSkipReason, kubeChainsFlush } from './disruption.js';
import type { ClusterHandle, ProviderName } from './provider.js';

// A local iptables-mode node's dump, cut to one chain of each kind (the real one: iptables-save in svc-hlh-n1).
const SAVED = `*mangle
:PREROUTING ACCEPT [0:0]
:KUBE-IPTABLES-HINT - [0:0]
:KUBE-PROXY-CANARY - [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.123.0.1/32 -p tcp -j KUBE-SVC-NPX46M4PTMTKRN6Y
COMMIT
`;

function cluster(
  provider: ProviderName,
  o: { disruptive?: boolean; shells?: boolean; kubeconfig?: string } = {},
): Cluster {
  const settings = readSettings({ SVC_DISRUPTIVE: o.disruptive ? '1' : undefined, SVC_KUBECONFIG: o.kubeconfig });
  const handle = {
    provider,
    name: 'c',
    nodes: [{ name: 'n1', internalIP: '10.0.0.1', ...(o.shells === false ? {} : { shell: { via: 'netns' } }) }],
  } as unknown as ClusterHandle;
  return clusterFromHandle(
    { ...handle, capabilities: { clusterDomain: 'cluster.local' } } as ClusterHandle,
    'r',
    settings,
  );
}

describe('kubeChainsFlush', () => {
  const { script, chains } = kubeChainsFlush('iptables', SAVED);
  const lines = script.split('\n');

  it('names every KUBE-* chain per table, and nothing else', () => {
    expect(chains).toEqual({
      mangle: ['KUBE-IPTABLES-HINT', 'KUBE-PROXY-CANARY'],
      nat: ['KUBE-SERVICES', 'KUBE-SVC-NPX46M4PTMTKRN6Y'],
    });
  });

  it('deletes the jumps from other chains and flushes, before any chain is deleted', () => {
    expect(lines).toContain(
      'iptables -w -t nat -D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES || true',
    );
    const firstDelete = lines.findIndex((l) => l.includes(' -X '));
    expect(lines.slice(0, firstDelete).every((l) => / -[DF] /.test(l))).toBe(true);
    expect(lines.slice(firstDelete)).toEqual([
      'iptables -w -t mangle -X KUBE-IPTABLES-HINT || true',
      'iptables -w -t mangle -X KUBE-PROXY-CANARY || true',
      'iptables -w -t nat -X KUBE-SERVICES || true',
      'iptables -w -t nat -X KUBE-SVC-NPX46M4PTMTKRN6Y || true',
    ]);
    expect(lines.filter((l) => l.includes('-A KUBE-'))).toEqual([]);
  });
});

describe('disruptionSkipReason', () => {
  it('disrupts a cluster you bring only with --disruptive', () => {
    expect(disruptionSkipReason(cluster('existing'), 'flush rules')).toMatch(/pass --disruptive/);
    expect(disruptionSkipReason(cluster('existing', { disruptive: true }), 'flush rules')).toBeUndefined();
    // A local cluster of this machine named by --kubeconfig is attached as local, and is still the user's.
    expect(disruptionSkipReason(cluster('local', { kubeconfig: '/k' }), 'restart kube-proxy')).toMatch(/--disruptive/);
    expect(disruptionSkipReason(cluster('local', { kubeconfig: '/k', disruptive: true }), 'restart kube-proxy')).toBe(
      undefined,
    );
    expect(disruptionSkipReason(cluster('existing', { disruptive: true }), 'restart the API server')).toMatch(
      /cannot restart it/,
    );
  });

  it('disrupts the clusters a run makes, except what k3s embeds and what needs node access', () => {
    for (const what of ['restart kube-proxy', 'restart the API server', 'flush rules'] as const) {
      expect(disruptionSkipReason(cluster('local'), what)).toBeUndefined();
      expect(disruptionSkipReason(cluster('kind'), what)).toBeUndefined();
    }
    expect(disruptionSkipReason(cluster('k3s'), 'restart kube-proxy')).toMatch(/inside its server process/);
    expect(disruptionSkipReason(cluster('k3s'), 'flush rules')).toBeUndefined();
    expect(disruptionSkipReason(cluster('local', { shells: false }), 'flush rules')).toMatch(/no node access/);
  });
});
