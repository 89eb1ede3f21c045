// suites/network-guard.spec.ts — not a guide section: the project's own network rule.
// Proves: from a pod and from a node, addresses outside the cluster (and Service IPs no Service owns)
// fail on this machine, the fabric's reject counter shows where, and nothing leaves through the uplink.
// A failure means: the local cluster's network could send traffic off the machine — stop and fix the guard.
import { beforeAll, describe, expect, it } from 'vitest';
import { GUARD_TARGETS, readGuard, unownedServiceIP } from '../helpers/cluster/guard.js';
import { localNetwork } from '../helpers/config.js';
import { nodeDial } from '../helpers/node/node-probe.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type DialResult } from '../helpers/workloads/client-pod.js';

const FAILED_ON_MACHINE = ['unreachable', 'refused'];

describe('Network guard (local provider: nothing leaves the machine)', () => {
  const cluster = useCluster();
  const notLocal = cluster.provider === 'local' ? undefined : `this spec checks the local provider's own fabric and guard; this cluster is ${cluster.provider}`;
  skipAllWith(notLocal);
  const ns = useNamespace('guard');
  let client: ClientPod;
  const node = cluster.nodes[0];

  beforeAll(async () => {
    if (notLocal) return;
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
        expect(FAILED_ON_MACHINE, `${address} from ${from}: ${result.outcome} (${result.error}) after ${result.durationMs}ms`).toContain(result.outcome);
        expect(after.fabricRejected, 'the fabric counted the rejected packet').toBeGreaterThan(before.fabricRejected);
        expect(after.uplinkStopped, 'packets of the cluster that reached the uplink').toBe(0);
      });
    }
  }

  it('does not answer a Service IP that no Service owns, and sends nothing out for it', async () => {
    const address = `${unownedServiceIP(localNetwork.serviceCIDR)}:80`;
    const fromPod = await client.dial(address);
    const fromNode = await nodeDial(cluster, node, address);
    expect(fromPod.outcome, `${address} from a pod: ${fromPod.error}`).not.toBe('ok');
    expect(fromNode.outcome, `${address} from a node: ${fromNode.error}`).not.toBe('ok');
    expect((await readGuard(cluster))!.uplinkStopped).toBe(0);
  });
});
