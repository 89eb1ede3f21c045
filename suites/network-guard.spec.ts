// suites/network-guard.spec.ts — not a guide section: the project's own network rule.
// Proves: from a pod and from a node, addresses outside the cluster (and Service IPs no Service owns)
// fail on this machine, the guard counts where, and nothing of the cluster leaves through another
// interface. Local provider: its fabric's reject counter and its uplink table. kind and k3s: the
// host table svc_conformance_kind around the Docker network svc-kind (setup/kind/network.sh).
// A failure means: the cluster's network could send traffic off the machine — stop and fix the guard.
import { isIPv4 } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { GUARD_TARGETS, guardSkipReason, hostForwards, readGuard, unownedServiceIP, type GuardCounters } from '../helpers/cluster/guard.js';
import { localNetwork } from '../helpers/config.js';
import { nodeDial } from '../helpers/node/node-probe.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type DialResult } from '../helpers/workloads/client-pod.js';

/** Refused on this machine: an ICMP unreachable or a reset, not silence from somewhere else. */
const FAILED_ON_MACHINE = ['unreachable', 'refused'];

describe('Network guard (nothing leaves the machine)', () => {
  const cluster = useCluster();
  const notOurs = guardSkipReason(cluster);
  skipAllWith(notOurs);
  const ns = useNamespace('guard');
  let client: ClientPod;
  const node = cluster.nodes[0];
  const local = cluster.provider === 'local';
  /** The local fabric rejects (and counts) every packet; the kind guard counts only when the host forwards at all. */
  const counted = local || hostForwards();
  /** Packets of the cluster that left through another interface since `before` (the local uplink table is the cluster's own: all of its life). */
  const leaked = (before: GuardCounters, after: GuardCounters) => (local ? after.uplinkStopped : after.uplinkStopped - before.uplinkStopped);

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
      it(`refuses ${what} from a ${from}, on the machine`, async () => {
        const before = (await readGuard(cluster))!;
        const result: DialResult = from === 'pod' ? await client.dial(address) : await nodeDial(cluster, node, address);
        const after = (await readGuard(cluster))!;
        const seen = `${address} from ${from}: ${result.outcome} (${result.error}) after ${result.durationMs}ms`;
        if (counted) {
          // A dropped packet times out where the guard drops silently (kind's forward rule); the count shows it was here.
          if (!local && result.outcome === 'timeout') expect(after.fabricRejected, `${seen}; the guard's forward drops`).toBeGreaterThan(before.fabricRejected);
          else {
            expect(FAILED_ON_MACHINE, seen).toContain(result.outcome);
            if (local) expect(after.fabricRejected, 'the fabric counted the rejected packet').toBeGreaterThan(before.fabricRejected);
          }
        } else {
          // This host does not forward: its kernel answers "unreachable" before any rule could count.
          expect(FAILED_ON_MACHINE, `${seen} (this host does not forward)`).toContain(result.outcome);
        }
        expect(leaked(before, after), 'packets of the cluster that left through another interface').toBe(0);
      });
    }
  }

  it('does not answer a Service IP that no Service owns, and sends nothing out for it', async ({ skip }) => {
    const before = (await readGuard(cluster))!;
    const range = local ? localNetwork.serviceCIDR : await serviceRangeOf(cluster);
    if (!range) skip('the kubernetes Service has no IPv4 ClusterIP at the start of a /16 here, so no unowned Service address can be named');
    const address = `${unownedServiceIP(range!)}:80`;
    const fromPod = await client.dial(address);
    const fromNode = await nodeDial(cluster, node, address);
    expect(fromPod.outcome, `${address} from a pod: ${fromPod.error}`).not.toBe('ok');
    expect(fromNode.outcome, `${address} from a node: ${fromNode.error}`).not.toBe('ok');
    expect(leaked(before, (await readGuard(cluster))!), 'packets of the cluster that left through another interface').toBe(0);
  });
});

/** The Service range of a cluster we did not lay out: the /16 that starts with the kubernetes Service's ClusterIP (x.y.0.1). */
async function serviceRangeOf(cluster: ReturnType<typeof useCluster>): Promise<string | undefined> {
  const ip = (await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).spec?.clusterIP ?? '';
  const match = isIPv4(ip) ? /^(\d+\.\d+)\.0\.1$/.exec(ip) : null;
  return match ? `${match[1]}.0.0/16` : undefined;
}
