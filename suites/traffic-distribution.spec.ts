// suites/traffic-distribution.spec.ts — beyond the guide: trafficDistribution and topology-aware hints
// Proves: with one server pod and one client pod on every node, and the nodes in zones (the local provider's
// --zones), the EndpointSlices hint each endpoint to its zone (and node); PreferClose, PreferSameZone and the
// topology-mode Auto annotation keep a client on its zone's endpoints, PreferSameNode on its node's; a node
// whose endpoint is gone falls back to the others (its zone's where the distribution keeps zones; under
// topology-mode Auto, what the hints then say: the controller drops them when a zone's share cannot be met).
// A failure usually means: the EndpointSlice controller writes no hints, or kube-proxy ignores them (every
// endpoint answers) or keeps routing to an endpoint that is gone.
import { beforeAll, describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { hostPort } from '../helpers/address.js';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { waitFor } from '../helpers/kube/wait.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { SERVICE_PORT } from '../helpers/workloads/hostnames.js';
import { startServerPod, waitForServerPod } from '../helpers/workloads/server-pods.js';
import {
  answersSettlingOn,
  createDistributedService,
  DISTRIBUTIONS,
  endpointHints,
  nodeZones,
  serviceNameOf,
  type Distribution,
  type DistributedService,
} from '../helpers/workloads/zones.js';

// With two endpoints, 20 requests all landing on the expected one by chance: 2^-20.
const REQUESTS = 20;
const SELECTOR = { app: 'zoned' };

describe('Beyond the guide: traffic distribution', () => {
  const cluster = useCluster();
  const ns = useNamespace('traffic');
  useDiagnosis(ns, 'prefer-close', 'prefer-same-zone', 'prefer-same-node', 'topology-auto');
  const nodes = cluster.nodes.map((n) => n.name);
  let zones = new Map<string, string>();
  let unmet: string | undefined;
  let clients: ClientPod[] = [];
  const services = new Map<Distribution, DistributedService>();
  const server = (node: string) => `server-${node}`;
  const url = (distribution: Distribution) =>
    `http://${hostPort(services.get(distribution)?.clusterIP ?? '', SERVICE_PORT)}/hostname`;

  beforeAll(async () => {
    if (nodes.length < 2) {
      unmet = `needs 2 nodes, each with its own endpoint; this cluster has ${nodes.length}`;
      return;
    }
    zones = await nodeZones(cluster);
    const distinct = new Set(zones.values());
    if (zones.size < nodes.length || distinct.size < 2) {
      unmet = `needs every node in a zone (topology.kubernetes.io/zone), 2 zones at least; ${zones.size}/${nodes.length} nodes have one, in ${distinct.size} zone(s) (local provider: --zones 2)`;
      return;
    }
    for (const node of nodes)
      await startServerPod(cluster, ns, { name: server(node), node, labels: SELECTOR, readiness: 'listening' });
    [clients] = await Promise.all([
      Promise.all(nodes.map((node) => startClientPod(cluster, ns, { name: `client-${node}`, node }))),
      Promise.all(nodes.map((node) => waitForServerPod(cluster, ns, server(node)))),
    ]);
    for (const distribution of DISTRIBUTIONS)
      services.set(distribution, await createDistributedService(cluster, ns, SELECTOR, distribution));
  });

  /** The reason a distribution's check cannot run: too few nodes or zones, or a minor without it. */
  const skipReason = (distribution: Distribution) => unmet ?? services.get(distribution)?.refused;
  const sameZone = (node: string) => nodes.filter((n) => zones.get(n) === zones.get(node)).map(server);
  /**
   * topology-mode Auto gives each zone a share of the endpoints in proportion to its nodes' CPU, and no hints at
   * all where a zone's share cannot be met (3 endpoints in 2 equal zones): once the EndpointSlices no longer list
   * `gone`'s server, the endpoints hinted for its zone, or every endpoint if any has no hint.
   */
  const autoHinted = async (gone: string): Promise<string[]> => {
    const hints = await waitFor(
      `${serviceNameOf('Auto')}'s EndpointSlices without ${server(gone)}`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        const now = await endpointHints(cluster, ns, 'Auto');
        return { done: !(server(gone) in now), seen: Object.keys(now).join(', '), value: Object.entries(now) };
      },
    );
    if (hints.some(([, h]) => !h.zones.length)) return hints.map(([pod]) => pod);
    return hints.filter(([, h]) => h.zones.includes(zones.get(gone)!)).map(([pod]) => pod);
  };

  it('the EndpointSlice controller hints every endpoint to its zone (PreferClose, topology-mode Auto) and its node (PreferSameNode)', async ({
    skip,
  }) => {
    if (unmet) skip(unmet);
    for (const distribution of ['PreferClose', 'Auto', 'PreferSameNode'] as const) {
      // PreferSameNode is refused by minors without it; PreferClose is in every minor we run.
      if (skipReason(distribution)) continue;
      const want = Object.fromEntries(
        nodes.map((node) => [
          server(node),
          { zones: [zones.get(node)!], nodes: distribution === 'PreferSameNode' ? [node] : [] },
        ]),
      );
      // The EndpointSlice controller writes a new Service's slices, and their hints, a moment after the Service:
      // under a busy run, the Service made last had no slice yet when it was first read.
      const hints = await probeUntil(
        `${serviceNameOf(distribution)}'s EndpointSlices hinted`,
        cluster.settings.timeouts.serviceSync,
        () => endpointHints(cluster, ns, distribution),
        (now) => isDeepStrictEqual(now, want),
      );
      expect(
        hints,
        because(
          'trafficDistribution',
          `EndpointSlices of ${ns}/${serviceNameOf(distribution)}: ${JSON.stringify(hints)}`,
        ),
      ).toEqual(want);
    }
  });

  for (const distribution of ['PreferClose', 'PreferSameZone', 'Auto'] as const) {
    it(`${distribution === 'Auto' ? 'topology-mode Auto' : distribution} sends each client only to the endpoints in its own zone`, async ({
      skip,
    }) => {
      const reason = skipReason(distribution);
      if (reason) skip(reason);
      for (const client of clients) {
        const want = sameZone(client.node);
        const tally = await answersSettlingOn(cluster, client, url(distribution), want, REQUESTS);
        expect(
          { ok: tally.ok, answers: Object.keys(tally.answers).sort() },
          because(
            'trafficDistribution',
            `${serviceNameOf(distribution)} from pod ${client.name} in ${zones.get(client.node)}: ${JSON.stringify(tally.answers)} ${tally.sampleError ?? ''}; want only ${want.join(', ')}`,
          ),
        ).toEqual({ ok: REQUESTS, answers: want });
      }
    });
  }

  it('PreferSameNode sends each client only to the endpoint on its own node', async ({ skip }) => {
    const reason = skipReason('PreferSameNode');
    if (reason) skip(reason);
    for (const client of clients) {
      const tally = await answersSettlingOn(cluster, client, url('PreferSameNode'), [server(client.node)], REQUESTS);
      expect(
        { ok: tally.ok, answers: Object.keys(tally.answers) },
        because(
          'trafficDistribution',
          `prefer-same-node from pod ${client.name} on ${client.node}: ${JSON.stringify(tally.answers)} ${tally.sampleError ?? ''}`,
        ),
      ).toEqual({ ok: REQUESTS, answers: [server(client.node)] });
    }
  });

  it('a node whose endpoint is gone falls back to the endpoints elsewhere, and returns to its own once it is back', async ({
    skip,
  }) => {
    if (unmet) skip(unmet);
    const last = nodes.at(-1)!;
    const client = clients.find((c) => c.node === last)!;
    const zoneLeft = sameZone(last).filter((s) => s !== server(last));
    const running = DISTRIBUTIONS.filter((d) => !skipReason(d));
    const expectOnly = async (distribution: Distribution, want: string[], when: string) => {
      const tally = await answersSettlingOn(cluster, client, url(distribution), want, REQUESTS);
      expect(
        { ok: tally.ok, answers: Object.keys(tally.answers).sort() },
        because(
          'trafficDistribution',
          `${serviceNameOf(distribution)} from pod ${client.name} on ${last} ${when}: ${JSON.stringify(tally.answers)} ${tally.sampleError ?? ''}; want ${want.join(', ')}`,
        ),
      ).toEqual({ ok: REQUESTS, answers: [...want].sort() });
    };
    await cluster.kube.core.deleteNamespacedPod({ namespace: ns, name: server(last), gracePeriodSeconds: 0 });
    // The same zone's other endpoints if it has any (every distribution prefers them next), else all the others.
    const elsewhere = zoneLeft.length ? zoneLeft : nodes.filter((n) => n !== last).map(server);
    for (const distribution of running)
      await expectOnly(
        distribution,
        distribution === 'Auto' ? await autoHinted(last) : elsewhere,
        `after ${server(last)} was deleted`,
      );
    await startServerPod(cluster, ns, { name: server(last), node: last, labels: SELECTOR, readiness: 'listening' });
    await waitForServerPod(cluster, ns, server(last));
    for (const distribution of running) {
      const own = distribution === 'PreferSameNode' ? [server(last)] : sameZone(last);
      await expectOnly(distribution, own, `after ${server(last)} came back`);
    }
  });
});
