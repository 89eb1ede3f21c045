// suites/network-guard.spec.ts — not a guide section: the project's own network rule.
// Proves: from a pod and from a node, addresses outside the cluster (and Service IPs no Service owns)
// fail on this machine, the guard counts where, and nothing of the cluster leaves through another
// interface. Local provider: its fabric's reject counter and its uplink table. kind and k3s: the
// host table svc_conformance_kind around the Docker network svc-kind (setup/kind/network.sh).
// A failure means: the cluster's network could send traffic off the machine — stop and fix the guard.
import { isIPv4 } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GUARD_TARGETS,
  guardSkipReason,
  readGuard,
  unownedServiceIP,
  type GuardCounters,
} from '../helpers/cluster/guard.js';
import { nodeDial } from '../helpers/node/node-probe.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type DialResult } from '../helpers/workloads/client-pod.js';

/** Refused on this machine: the local fabric answers ICMP unreachable; the kind guard drops in silence (timeout). */
const FAILED_ON_MACHINE = { local: ['unreachable', 'refused'], kind: ['unreachable', 'refused', 'timeout'] };

describe('Network guard (nothing leaves the machine)', () => {
  const cluster = useCluster();
  // The test addresses are IPv4: an IPv6-only cluster's pods have no IPv4 route at all, so nothing reaches a guard to count.
  const notOurs =
    guardSkipReason(cluster) ??
    (cluster.capabilities.ipFamilies.includes('IPv4')
      ? undefined
      : 'the test addresses are IPv4 and this cluster is IPv6-only: its pods cannot even send to them');
  skipAllWith(notOurs);
  const ns = useNamespace('guard');
  let client: ClientPod;
  const node = cluster.nodes[0];
  const local = cluster.provider === 'local';
  /** Packets of the cluster that left through another interface since `before` (the local uplink table is the cluster's own: all of its life). */
  const leaked = (before: GuardCounters, after: GuardCounters) =>
    local ? after.uplinkStopped : after.uplinkStopped - before.uplinkStopped;

  beforeAll(async () => {
    if (notOurs) return;
    client = await startClientPod(cluster, ns);
  });

  const targets = [
    ['an outside private address', `${GUARD_TARGETS.outsidePrivate}:80`],
    ['an outside public address', `${GUARD_TARGETS.outsidePublic}:443`],
  ] as const;

  for (const [what, address] of targets) {
    for (const from of ['pod', 'node'] as const) {
      it(`refuses ${what} from a ${from}, on the machine`, async ({ skip }) => {
        const noAccess = from === 'node' ? nodeAccessSkipReason(cluster) : undefined;
        if (noAccess) skip(noAccess);
        const before = (await readGuard(cluster))!;
        const result: DialResult = from === 'pod' ? await client.dial(address) : await nodeDial(cluster, node, address);
        const after = (await readGuard(cluster))!;
        const seen = `${address} from ${from}: ${result.outcome} (${result.error}) after ${result.durationMs}ms`;
        expect(FAILED_ON_MACHINE[local ? 'local' : 'kind'], seen).toContain(result.outcome);
        expect(after.fabricRejected, `${seen}; the guard counted the refused packet`).toBeGreaterThan(
          before.fabricRejected,
        );
        expect(leaked(before, after), 'packets of the cluster that left through another interface').toBe(0);
      });
    }
  }

  it('does not answer a Service IP that no Service owns, and sends nothing out for it', async ({ skip }) => {
    const before = (await readGuard(cluster))!;
    const range = local ? cluster.settings.network.serviceCIDR : await serviceRangeOf(cluster);
    if (!range)
      skip(
        'the kubernetes Service has no IPv4 ClusterIP at the start of a /16 here, so no unowned Service address can be named',
      );
    const address = `${unownedServiceIP(range!)}:80`;
    const fromPod = await client.dial(address);
    expect(fromPod.outcome, `${address} from a pod: ${fromPod.error}`).not.toBe('ok');
    if (!nodeAccessSkipReason(cluster)) {
      const fromNode = await nodeDial(cluster, node, address);
      expect(fromNode.outcome, `${address} from a node: ${fromNode.error}`).not.toBe('ok');
    }
    expect(
      leaked(before, (await readGuard(cluster))!),
      'packets of the cluster that left through another interface',
    ).toBe(0);
  });
});

/** The Service range of a cluster we did not lay out: the /16 that starts with the kubernetes Service's ClusterIP (x.y.0.1). */
async function serviceRangeOf(cluster: ReturnType<typeof useCluster>): Promise<string | undefined> {
  const ip =
    (await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).spec?.clusterIP ?? '';
  const match = isIPv4(ip) ? /^(\d+\.\d+)\.0\.1$/.exec(ip) : null;
  return match ? `${match[1]}.0.0/16` : undefined;
}
