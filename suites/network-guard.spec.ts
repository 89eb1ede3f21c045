// suites/network-guard.spec.ts — not a guide section: the project's own network rule.
// Proves: from a pod and from a node, addresses outside the cluster (and Service IPs no Service owns)
// fail on this machine, the guard counts where, and nothing of the cluster leaves through another
// interface, in every address family the cluster serves (IPv4, IPv6 or both). Local provider:
// its fabric's reject counter and its uplink table. kind and k3s: the host table
// svc_conformance_kind around the Docker network svc-kind (setup/kind/network.sh).
// With --cni flannel: pod traffic between nodes crosses the nodes' segment as VXLAN (UDP 8472) and none is routed off it.
// Each family's LoadBalancer pool: an address no Service holds is answered by nobody and stays on this machine.
// A failure means: the cluster's network could send traffic off the machine — stop and fix the guard.
import { isIPv4 } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostOf, hostPort } from '../helpers/address.js';
import {
  guardSkipReason,
  guardTargets,
  loadBalancerPool,
  localServiceRange,
  readGuard,
  unheldLoadBalancerAddressStayed,
  unownedServiceIP,
  type GuardCounters,
} from '../helpers/cluster/guard.js';
import { externalDial, externalSkipReason } from '../helpers/node/external-client.js';
import { nodeDial } from '../helpers/node/node-probe.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type DialResult } from '../helpers/workloads/client-pod.js';

/** Refused on this machine: the local fabric answers ICMP unreachable; the kind guard drops in silence (timeout). */
const FAILED_ON_MACHINE = { local: ['unreachable', 'refused'], kind: ['unreachable', 'refused', 'timeout'] };

describe('Network guard (nothing leaves the machine)', () => {
  const cluster = useCluster();
  const notOurs = guardSkipReason(cluster);
  skipAllWith(notOurs);
  const families = cluster.capabilities.ipFamilies;
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

  // Each family the cluster serves: a pod of an IPv6-only cluster has no IPv4 address to send from, and the reverse.
  const targets = families.flatMap((family) => [
    [`an outside private ${family} address`, hostPort(guardTargets(family).outsidePrivate, 80)],
    [`an outside public ${family} address`, hostPort(guardTargets(family).outsidePublic, 443)],
  ]);

  // The external client (the local fabric, kind's and k3s's outside container) sends NodePort and externalIPs tests.
  it(`refuses an outside public address from the external client, and nothing leaves`, async ({ skip }) => {
    const noClient = externalSkipReason(cluster);
    if (noClient) skip(noClient);
    const before = (await readGuard(cluster))!;
    const address = hostPort(guardTargets(families[0]).outsidePublic, 443);
    const result = await externalDial(cluster, address);
    const seen = `${address} from the external client: ${result.outcome} (${result.error}) after ${result.durationMs}ms`;
    expect(result.outcome, seen).not.toBe('ok');
    expect(leaked(before, (await readGuard(cluster))!), `${seen}; packets that left through another interface`).toBe(0);
  });

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

  // An overlay of ours (--cni flannel) wraps pod traffic between nodes in VXLAN: those packets must stay on the nodes' segment.
  it(`carries pod traffic between nodes as VXLAN (UDP 8472) on the nodes' segment only, routing none of it off`, async ({
    skip,
  }) => {
    if (cluster.capabilities.cni !== 'flannel')
      skip(`the cluster's CNI is ${cluster.capabilities.cni}: no VXLAN overlay of ours (--cni flannel makes one)`);
    if (cluster.nodes.length < 2) skip('one node: no pod traffic between nodes to carry');
    const before = (await readGuard(cluster))!;
    if (!before.vxlan) skip("this cluster's fabric predates the VXLAN counters: bring it up again");
    const [near, far] = await Promise.all(
      cluster.nodes.slice(0, 2).map((n, i) => startClientPod(cluster, ns, { name: `overlay-${i + 1}`, node: n.name })),
    );
    // Nothing listens on the far pod's port: its kernel's refusal coming back proves the round trip as well as an answer.
    const address = hostPort(far.ip, 9);
    const result = await near.dial(address);
    const after = (await readGuard(cluster))!;
    const seen = `${address} (pod on ${far.node}) from a pod on ${near.node}: ${result.outcome} (${result.error ?? ''}); VXLAN packets bridged between nodes ${before.vxlan!.onSegment} → ${after.vxlan!.onSegment}, routed off the segment ${before.vxlan!.offSegment} → ${after.vxlan!.offSegment}`;
    expect(['ok', 'refused'], seen).toContain(result.outcome);
    expect(after.vxlan!.onSegment, `${seen}: the pods' packets crossed the overlay`).toBeGreaterThanOrEqual(
      before.vxlan!.onSegment + 2,
    );
    expect(after.vxlan!.offSegment, `${seen}: VXLAN routed off the nodes' segment`).toBe(0);
    expect(leaked(before, after), 'packets of the cluster that left through another interface').toBe(0);
  });

  // Each family's LoadBalancer pool (MetalLB's, announced on the nodes' segment): an address of it that no Service holds
  // is answered by nobody, whoever asks, and stops on this machine (where, the guard's kind tells: see the helper).
  for (const family of families) {
    it(`refuses an ${family} LoadBalancer address no Service holds from the external client, a pod and a node, and nothing leaves`, async ({
      skip,
    }) => {
      const pool = loadBalancerPool(cluster, family);
      if (!pool) skip(`the ${cluster.provider} provider has no ${family} LoadBalancer pool of ours`);
      const address = hostPort(unownedServiceIP(pool!), 80);
      const before = (await readGuard(cluster))!;
      const fromOutside = await externalDial(cluster, address);
      const fromPod = await client.dial(address);
      const fromNode = nodeAccessSkipReason(cluster) ? undefined : await nodeDial(cluster, node, address);
      const after = (await readGuard(cluster))!;
      const seen = (from: string, r: DialResult | undefined) =>
        `${address} from ${from}: ${r?.outcome} (${r?.error}) after ${r?.durationMs}ms`;
      expect(fromOutside.outcome, seen('the external client', fromOutside)).not.toBe('ok');
      expect(FAILED_ON_MACHINE[local ? 'local' : 'kind'], seen('a pod', fromPod)).toContain(fromPod.outcome);
      expect(fromNode?.outcome, seen('a node', fromNode)).not.toBe('ok');
      expect(leaked(before, after), 'packets of the cluster that left through another interface').toBe(0);
      const stop = await unheldLoadBalancerAddressStayed(cluster, node, hostOf(address), before, after);
      expect(stop.stayed, `${seen('a pod', fromPod)}; ${stop.seen}`).toBe(true);
    });
  }

  for (const family of local ? families : families.slice(0, 1)) {
    it(`does not answer an ${family} Service IP that no Service owns, and sends nothing out for it`, async ({
      skip,
    }) => {
      const before = (await readGuard(cluster))!;
      const range = local ? localServiceRange(cluster, family) : await serviceRangeOf(cluster);
      if (!range)
        skip(
          'the kubernetes Service has no IPv4 ClusterIP at the start of a /16 here, so no unowned Service address can be named',
        );
      const address = hostPort(unownedServiceIP(range!), 80);
      const fromPod = await client.dial(address);
      expect(fromPod.outcome, `${address} from a pod: ${fromPod.error}`).not.toBe('ok');
      // From a node too where node commands run.
      const fromNode = nodeAccessSkipReason(cluster) ? undefined : await nodeDial(cluster, node, address);
      expect(fromNode?.outcome, `${address} from a node: ${fromNode?.error}`).not.toBe('ok');
      expect(
        leaked(before, (await readGuard(cluster))!),
        'packets of the cluster that left through another interface',
      ).toBe(0);
    });
  }
});

/** The Service range of a cluster we did not lay out: the /16 that starts with the kubernetes Service's ClusterIP (x.y.0.1). */
async function serviceRangeOf(cluster: ReturnType<typeof useCluster>): Promise<string | undefined> {
  const ip =
    (await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })).spec?.clusterIP ?? '';
  const match = isIPv4(ip) ? /^(\d+\.\d+)\.0\.1$/.exec(ip) : null;
  return match ? `${match[1]}.0.0/16` : undefined;
}
