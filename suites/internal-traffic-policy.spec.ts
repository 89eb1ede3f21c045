// suites/internal-traffic-policy.spec.ts — beyond the guide: internalTrafficPolicy: Local
// Proves: with internalTrafficPolicy: Local, a pod and a hostNetwork pod reach only the backends on their own node (the
// guide's hostnames, spread over two nodes), and where a node has no endpoint (a hostNetwork backend on the first node
// only) its pods and hostNetwork pods get no answer at all; a hostNetwork pod's hostname is its node's name. Needs 2 nodes.
// A failure usually means: kube-proxy ignores the policy (sends to other nodes' endpoints, or falls back to them when
// the node has none), or the node's own traffic (hostNetwork) is not given the policy.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as k8s from '@kubernetes/client-node';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { answered } from '../helpers/workloads/answered.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { waitUntilAnswered } from '../helpers/workloads/client-waits.js';
import {
  deployHostNetworkBackend,
  hostNetworkNamespace,
  startHostNetworkClient,
  type HostNetworkBackend,
} from '../helpers/workloads/host-network.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { describeDistribution, roundRobin } from '../helpers/workloads/round-robin.js';
import { hostPort } from '../helpers/address.js';

const itp = section('Beyond the guide: internalTrafficPolicy', {
  next: "with internalTrafficPolicy: Local kube-proxy sends a node's own traffic (its pods', its own) only to that node's endpoints and drops it where there is none: read the Service's KUBE-SVL chain (nftables: its local-… chain) and the filter rule '… has no local endpoints' on each node",
  // Rules on a node that send a Local Service to another node's endpoint: kube-proxy ignored the policy there.
  verdict: (evidence) => {
    if (evidence.serviceSpec?.internalTrafficPolicy !== 'Local') return undefined;
    for (const node of evidence.nodes) {
      const remote = evidence.slices.filter(
        (e) => e.node && e.node !== node.node && (node.programmed ?? []).includes(e.address),
      );
      if (remote.length)
        return `kube-proxy on ${node.node} sends ${evidence.namespace}/${evidence.service} (internalTrafficPolicy: Local) to endpoints on other nodes: ${remote.map((e) => `${e.address} on ${e.node}`).join(', ')}`;
    }
    return undefined;
  },
});

const HOST_SERVICE = 'host-backend';
/** Requests beyond the round-robin: with one of three backends local, 20 more all staying local by chance is 3^-20. */
const EXTRA = 20;
/** Tries against a node without a local endpoint: every one must fail. */
const TRIES = 5;

const localPolicy = (s: k8s.V1Service) => void (s.spec!.internalTrafficPolicy = 'Local');

describe(itp.title, () => {
  const cluster = useCluster();
  const needs =
    cluster.nodes.length < 2
      ? `needs 2 nodes (one with a local endpoint, one without); this cluster has ${cluster.nodes.length}`
      : undefined;
  skipAllWith(needs);
  const ns = useNamespace('itp');
  useDiagnosis(ns, 'hostnames');
  const [withEndpoint, without] = cluster.nodes;
  let app: Hostnames, hostBackend: HostNetworkBackend, podClients: ClientPod[], hostClients: ClientPod[];
  const hostnamesUrl = () => `http://${hostPort(app.clusterIP, app.port)}/`;
  const hostBackendUrl = () => `http://${hostPort(hostBackend.clusterIP, hostBackend.port)}/hostname`;

  beforeAll(async () => {
    if (needs) return;
    const hostNs = await hostNetworkNamespace(cluster, 'itp-host');
    const pair = [withEndpoint, without];
    [podClients, hostClients, [hostBackend, app]] = await Promise.all([
      Promise.all(pair.map((n, i) => startClientPod(cluster, ns, { name: `client-${i + 1}`, node: n.name }))),
      Promise.all(pair.map((n, i) => startHostNetworkClient(cluster, hostNs, `host-client-${i + 1}`, n.name))),
      (async () => {
        // The host backend is listed before the hostnames Service exists: a node whose rules send hostnames
        // somewhere (awaited below) synced after it, so its rules for the host backend are final too.
        const backend = await deployHostNetworkBackend(cluster, hostNs, HOST_SERVICE, withEndpoint.name, localPolicy);
        const deployed = await deployHostnames(cluster, ns, { programmed: false, tweak: { service: localPolicy } });
        return [backend, deployed] as const;
      })(),
    ]);
    // kube-proxy's rules for a Local Service differ per node: the data path tells when each node has them.
    await Promise.all(podClients.map((client) => waitUntilAnswered(cluster, client, hostnamesUrl())));
  });

  /** Every backend on the client's node answers, and nothing else does (nor fails) in a round-robin and EXTRA more. */
  async function localOnly(client: ClientPod): Promise<{ want: string[]; got: string[]; seen: string }> {
    const want = (await app.backendsNow())
      .filter((p) => p.node === client.node)
      .map((p) => p.name)
      .sort();
    const rr = await roundRobin(client, hostnamesUrl(), want);
    const more = await client.http(hostnamesUrl(), { count: EXTRA, concurrency: 10 });
    for (const [name, n] of Object.entries(more.answers)) rr.seen[name] = (rr.seen[name] ?? 0) + n;
    for (const [kind, n] of Object.entries(more.errors ?? {})) rr.failures[kind] = (rr.failures[kind] ?? 0) + n;
    rr.requests += more.count;
    return { want, got: answered(rr), seen: describeDistribution(rr) };
  }

  it('a pod reaches only the backends on its own node', async () => {
    for (const client of podClients) {
      const { want, got, seen } = await localOnly(client);
      expect(
        got,
        because(
          itp,
          `${hostnamesUrl()} from pod ${client.name} on ${client.node} (local: ${want.join(', ')}): ${seen}`,
        ),
      ).toEqual(want);
    }
  });

  it('a hostNetwork pod reaches only the backends on its own node', async () => {
    for (const client of hostClients) {
      const { want, got, seen } = await localOnly(client);
      expect(
        got,
        because(
          itp,
          `${hostnamesUrl()} from hostNetwork pod ${client.name} on ${client.node} (local: ${want.join(', ')}): ${seen}`,
        ),
      ).toEqual(want);
    }
  });

  it("a hostNetwork pod's hostname is its node's name", async () => {
    const seen = await Promise.all(
      hostClients.map(async (c) => `${c.name}: ${(await c.readFile('/proc/sys/kernel/hostname')).trim()}`),
    );
    expect(
      seen,
      because(
        itp,
        "hostNetwork pods share their node's UTS namespace (upstream compares /hostname with the node name)",
      ),
    ).toEqual(hostClients.map((c) => `${c.name}: ${c.node}`));
  });

  it("a pod on a node without a local endpoint gets no answer, and one on the endpoint's node gets the endpoint", async () => {
    const seen = await Promise.all(podClients.map((c) => reachHostBackend(c)));
    expect(seen, because(itp, `${hostBackendUrl()} from pods: ${describeReach(seen)}`)).toEqual(expectedFromNodes());
  });

  it("a hostNetwork pod on a node without a local endpoint gets no answer, and one on the endpoint's node gets the endpoint", async () => {
    const seen = await Promise.all(hostClients.map((c) => reachHostBackend(c)));
    expect(seen, because(itp, `${hostBackendUrl()} from hostNetwork pods: ${describeReach(seen)}`)).toEqual(
      expectedFromNodes(),
    );
  });

  /** What the host backend's Service gave a client: how many of TRIES answered, and with which names. */
  async function reachHostBackend(client: ClientPod) {
    const tally = await client.http(hostBackendUrl(), { count: TRIES, concurrency: TRIES });
    return { node: client.node, answered: tally.ok, names: Object.keys(tally.answers), failed: tally.errors ?? {} };
  }

  /** "from hle-node-1: 5/5 answered (hle-node-1); from hle-node-2: 0/5 answered ({"timeout":5})", and where the endpoint is. */
  function describeReach(seen: Awaited<ReturnType<typeof reachHostBackend>>[]): string {
    const each = seen.map(
      (s) => `from ${s.node}: ${s.answered}/${TRIES} answered (${s.names.join(', ') || JSON.stringify(s.failed)})`,
    );
    return `${each.join('; ')}; its one endpoint is hostNetwork on ${withEndpoint.name}`;
  }

  /** The endpoint's node gets every answer, from the backend, which reports its node's name; the other gets none. */
  function expectedFromNodes() {
    return [
      { node: withEndpoint.name, answered: TRIES, names: [withEndpoint.name], failed: {} },
      { node: without.name, answered: 0, names: [], failed: expect.any(Object) as object },
    ];
  }
});
