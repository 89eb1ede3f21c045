// suites/endpoint-readiness.spec.ts — beyond the guide: endpoints that are not ready or are terminating
// Proves: publishNotReadyAddresses publishes a pod that never turned ready (listed ready but not serving, in the
// headless name, answering on the ClusterIP) and a terminating one that is no longer ready, which a Service without
// it refuses; with no ready endpoint, kube-proxy falls back to a terminating one that still serves, under both
// internal and external traffic policies (Local only on the endpoint's node); a Service whose only pod was evicted
// is left with no endpoint and refuses, as is one whose only pod its kubelet evicted (left behind, terminal);
// blue/green pods behind one Service switch by their readiness gates with no failed request; publishNotReadyAddresses
// switched in place is followed.
// A failure usually means: kube-proxy ignores the serving/terminating conditions (no fallback, or traffic to pods
// that stopped serving), or the EndpointSlice controller ignores publishNotReadyAddresses or keeps evicted pods.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { answeredBy } from '../helpers/workloads/answered-by.js';
import type { BackendPod } from '../helpers/workloads/backends.js';
import { startClientPod, type ClientPod, type Tally } from '../helpers/workloads/client-pod.js';
import {
  endpointConditionsOf,
  waitForEndpointConditions,
  waitForNoEndpoints,
} from '../helpers/workloads/endpoint-conditions.js';
import { evictPod, terminatePod } from '../helpers/workloads/pod-lifecycle.js';
import {
  serverPodObject,
  startServerPod,
  waitForServerPod,
  type ServerPodOptions,
} from '../helpers/workloads/server-pods.js';
import { applyServiceOver } from '../helpers/workloads/service-over.js';
import { deploySyncMarker, waitForProxiesPast } from '../helpers/workloads/sync-marker.js';
import { READY_GATE, setReadyGate } from '../helpers/workloads/udp-servers.js';
import { waitUntilSilent } from '../helpers/workloads/client-waits.js';
import { answersSettlingOn } from '../helpers/workloads/zones.js';
import { patchServiceSpec } from '../helpers/kube/services.js';
import { describePod } from '../helpers/kube/pods.js';
import { waitFor } from '../helpers/kube/wait.js';
import { hostPort } from '../helpers/address.js';

/** Each pod's labels select it alone: the Services in front of one pod see only its state. */
const TERMINATING = 'terminating'; // kept terminating, still ready (serving): the fallback Services' only pod
const UNREADY_TERMINATING = 'unready-terminating'; // kept terminating, unready from SIGTERM on
const NEVER_READY = 'never-ready';
const EVICTED = 'evicted';
/** A pod that writes twice its ephemeral-storage limit: its kubelet evicts it and leaves it behind, terminal. */
const KUBELET_EVICTED = 'kubelet-evicted';
/** Blue and green behind one Service, each held unready by its readiness gate until the check turns it. */
const BLUE_GREEN = 'blue-green';
/** A Service over the terminating, unready pod whose publishNotReadyAddresses the check switches in place. */
const TOGGLED = 'toggled-not-ready';
const BLUE = 'blue';
const GREEN = 'green';
const TRIES = 3;
/** Requests that must all reach green once the switch is programmed (upstream asks 6 in a row, then 5). */
const ONLY_GREEN = 10;

const readiness = section('Beyond the guide: endpoints that are not ready or are terminating', {
  next: "compare the EndpointSlices' ready/serving/terminating conditions with the rules kube-proxy wrote on the client's node (iptables-save | grep <svc>; nft list table ip kube-proxy): with no ready endpoint it must use the serving terminating ones, and with publishNotReadyAddresses every listed one",
  verdict: (ev) => {
    const down = ev.nodes.filter((n) => n.kubeProxy && !n.kubeProxy.running).map((n) => n.node);
    if (down.length) return `kube-proxy is not running on ${down.join(', ')}`;
    const nowhere = ev.nodes.filter((n) => n.programmed?.length === 0).map((n) => n.node);
    if (!nowhere.length) return undefined;
    const listed = ev.slices.filter((e) => e.ready).map((e) => e.address);
    if (ev.serviceSpec?.publishNotReadyAddresses && listed.length)
      return `kube-proxy on ${nowhere.join(', ')} sends ${ev.namespace}/${ev.service} nowhere, though publishNotReadyAddresses lists ${listed.join(', ')} as ready`;
    const serving = ev.pods.filter((p) => p.terminating && p.ready).map((p) => p.name);
    if (!listed.length && serving.length)
      return `kube-proxy on ${nowhere.join(', ')} sends ${ev.namespace}/${ev.service} nowhere while its only pods are terminating and still serving (${serving.join(', ')}): it does not fall back to them`;
    return undefined;
  },
});

const describeTally = (t: Tally) =>
  `${JSON.stringify(t.answers)}${t.errors && Object.keys(t.errors).length ? ` errors ${JSON.stringify(t.errors)} ${t.sampleError ?? ''}` : ''}`;

describe(readiness.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('readiness');
  // The fallback Service last: where it falls back as it should, the guide's tree reads its rules to a not-ready
  // endpoint as stale, so a cause found in the others comes first.
  useDiagnosis(ns, 'publish-not-ready', NEVER_READY, EVICTED, BLUE_GREEN, 'fallback');
  const [endpointNode, ...others] = cluster.nodes;
  const needsTwo = others.length ? undefined : 'needs 2 nodes (one with the endpoint, one without); this cluster has 1';
  /** A client on every node; the first shares the endpoints' node. */
  let clients: ClientPod[];
  const services = new Map<string, k8s.V1Service>();
  const pods = new Map<string, BackendPod>();

  const service = (name: string) => services.get(name)!;
  const clusterIPOf = (name: string) => `http://${hostPort(service(name).spec!.clusterIP!, 80)}/hostname`;
  const nodePortOf = (name: string, node: { internalIP: string }) =>
    `http://${hostPort(node.internalIP, service(name).spec!.ports![0].nodePort!)}/hostname`;
  /** `url` from `client`: what each of TRIES requests got. */
  const ask = async (client: ClientPod, url: string) => {
    const tally = await client.http(url, { count: TRIES });
    return { tally, seen: `${url} from pod ${client.name} on ${client.node}: ${describeTally(tally)}` };
  };

  beforeAll(async () => {
    const node = endpointNode.name;
    const pod = (name: string, options: Partial<ServerPodOptions>) =>
      startServerPod(cluster, ns, { name, node, labels: { app: name }, readiness: 'listening', ...options });
    const svc = async (name: string, app: string, tweak: (s: k8s.V1Service) => void) =>
      void services.set(name, await applyServiceOver(cluster, ns, name, { app }, tweak));
    const set = (s: k8s.V1Service, spec: Partial<k8s.V1ServiceSpec>) => void Object.assign(s.spec!, spec);
    // Blue on the endpoints' node, green on the other one where there is one: the switch crosses nodes.
    // netexec serves at once; a moment later the container writes 10 MiB, twice its ephemeral-storage limit.
    const overfilled = () => {
      const object = serverPodObject(cluster, ns, {
        name: KUBELET_EVICTED,
        node,
        labels: { app: KUBELET_EVICTED },
        readiness: 'listening',
      });
      const [server] = object.spec!.containers;
      server.resources = { limits: { 'ephemeral-storage': '5Mi' } };
      server.command = [
        'sh',
        '-c',
        `(sleep 2; busybox dd if=/dev/zero of=/tmp/fill bs=1M count=10) & exec /agnhost ${server.args!.join(' ')}`,
      ];
      server.args = [];
      return cluster.kube.apply(object);
    };
    const gated = (name: string, on: string) => {
      const object = serverPodObject(cluster, ns, {
        name,
        node: on,
        labels: { app: BLUE_GREEN },
        readiness: 'listening',
      });
      object.spec!.readinessGates = [{ conditionType: READY_GATE }];
      return cluster.kube.apply(object);
    };
    const [, ...clientPods] = await Promise.all([
      Promise.all([
        pod(TERMINATING, { keepServingSeconds: 600 }),
        pod(UNREADY_TERMINATING, { keepServingSeconds: 600, readiness: 'until-sigterm' }),
        pod(NEVER_READY, { readiness: 'never' }),
        pod(EVICTED, {}),
        svc('fallback', TERMINATING, () => {}),
        svc('fallback-local', TERMINATING, (s) => set(s, { internalTrafficPolicy: 'Local' })),
        svc('fallback-nodeport', TERMINATING, (s) => set(s, { type: 'NodePort' })),
        svc('fallback-nodeport-local', TERMINATING, (s) =>
          set(s, { type: 'NodePort', externalTrafficPolicy: 'Local' }),
        ),
        svc('publish-not-ready', UNREADY_TERMINATING, (s) =>
          set(s, { type: 'NodePort', publishNotReadyAddresses: true }),
        ),
        svc('hide-not-ready', UNREADY_TERMINATING, (s) => set(s, { type: 'NodePort' })),
        svc(TOGGLED, UNREADY_TERMINATING, (s) => set(s, { publishNotReadyAddresses: true })),
        svc(NEVER_READY, NEVER_READY, (s) => set(s, { publishNotReadyAddresses: true })),
        svc(`${NEVER_READY}-headless`, NEVER_READY, (s) =>
          set(s, { clusterIP: 'None', publishNotReadyAddresses: true }),
        ),
        svc(EVICTED, EVICTED, (s) => set(s, { publishNotReadyAddresses: true })),
        svc(KUBELET_EVICTED, KUBELET_EVICTED, (s) => set(s, { publishNotReadyAddresses: true })),
        overfilled(),
        gated(BLUE, node),
        gated(GREEN, (others[0] ?? endpointNode).name),
        svc(BLUE_GREEN, BLUE_GREEN, () => {}),
      ]),
      ...cluster.nodes.map((n, i) => startClientPod(cluster, ns, { name: `client-${i + 1}`, node: n.name })),
    ]);
    clients = clientPods;
    const [marker] = await Promise.all([
      deploySyncMarker(cluster, ns, node),
      ...[TERMINATING, UNREADY_TERMINATING, EVICTED].map(async (name) =>
        pods.set(name, await waitForServerPod(cluster, ns, name)),
      ),
      waitForServerPod(cluster, ns, NEVER_READY, false).then((p) => pods.set(NEVER_READY, p)),
      ...[BLUE, GREEN].map(async (name) => pods.set(name, await waitForServerPod(cluster, ns, name, false))),
    ]);
    // Both pods served before they were deleted: what follows is the Service after the change.
    await Promise.all([
      waitForEndpointConditions(cluster, ns, 'fallback', TERMINATING, {
        ready: true,
        serving: true,
        terminating: false,
      }),
      waitForEndpointConditions(cluster, ns, 'hide-not-ready', UNREADY_TERMINATING, {
        ready: true,
        serving: true,
        terminating: false,
      }),
    ]);
    await Promise.all([terminatePod(cluster, ns, TERMINATING), terminatePod(cluster, ns, UNREADY_TERMINATING)]);
    const fallback = { ready: false, serving: true, terminating: true };
    const published = { ready: true, serving: false, terminating: true };
    await Promise.all([
      ...['fallback', 'fallback-local', 'fallback-nodeport', 'fallback-nodeport-local'].map((name) =>
        waitForEndpointConditions(cluster, ns, name, TERMINATING, fallback),
      ),
      waitForEndpointConditions(cluster, ns, 'publish-not-ready', UNREADY_TERMINATING, published),
      waitForEndpointConditions(cluster, ns, 'hide-not-ready', UNREADY_TERMINATING, { ...published, ready: false }),
    ]);
    // Rules written before the change would answer as well: every check below runs on rules made after it.
    await waitForProxiesPast(cluster, marker, clients);
  });

  it('publishNotReadyAddresses: the EndpointSlices list a pod that never turned ready as ready, not serving', async () => {
    const conditions = await endpointConditionsOf(cluster, ns, NEVER_READY, NEVER_READY);
    expect(
      conditions,
      because(
        readiness,
        `${NEVER_READY} (never Ready) in the EndpointSlices of ${ns}/${NEVER_READY} (publishNotReadyAddresses)`,
      ),
    ).toEqual({ ready: true, serving: false, terminating: false });
  });

  it('publishNotReadyAddresses: the ClusterIP answers from a pod that never turned ready, from pods on every node', async () => {
    for (const client of clients) {
      const { tally, seen } = await ask(client, clusterIPOf(NEVER_READY));
      expect(tally.answers, because(readiness, seen)).toEqual({ [NEVER_READY]: TRIES });
    }
  });

  it("publishNotReadyAddresses: the headless Service's name resolves to a pod that never turned ready", async () => {
    const name = `${NEVER_READY}-headless`;
    const result = await clients[0].resolve(name);
    expect(
      result.addrs,
      because(readiness, `"${name}" from pod ${clients[0].name}: ${result.outcome} ${result.error ?? ''}`),
    ).toEqual([pods.get(NEVER_READY)!.ip]);
  });

  it("publishNotReadyAddresses: a terminating pod that is no longer ready answers on the ClusterIP and every node's NodePort", async () => {
    const client = clients.at(-1)!; // on the other node where there is one, as a remote client
    for (const url of [
      clusterIPOf('publish-not-ready'),
      ...cluster.nodes.map((n) => nodePortOf('publish-not-ready', n)),
    ]) {
      const { tally, seen } = await ask(client, url);
      expect(tally.answers, because(readiness, seen)).toEqual({ [UNREADY_TERMINATING]: TRIES });
    }
  });

  // Upstream's "should create endpoints for unready pods": one Service switched in place, reached by its DNS name.
  it('publishNotReadyAddresses switched in place, true → false → true: the terminating pod that is no longer ready answers by the Service name, stops, and answers again', async () => {
    const client = clients.at(-1)!;
    const url = `http://${TOGGLED}.${ns}.svc.${cluster.domain}/hostname`;
    const answersOnly = async (when: string) => {
      const tally = await answersSettlingOn(cluster, client, url, [UNREADY_TERMINATING], TRIES);
      expect(
        tally.answers,
        because(readiness, `${when}: ${url} from pod ${client.name} on ${client.node}: ${describeTally(tally)}`),
      ).toEqual({ [UNREADY_TERMINATING]: TRIES });
    };
    const ref = { namespace: ns, name: TOGGLED };
    await answersOnly('publishNotReadyAddresses true');
    await patchServiceSpec(cluster.kube, ref, { publishNotReadyAddresses: false });
    const silent = await waitUntilSilent(cluster, client, url);
    expect(
      silent.ok,
      because(
        readiness,
        `publishNotReadyAddresses switched to false: ${url} from pod ${client.name}: ${describeTally(silent)}`,
      ),
    ).toBe(0);
    await patchServiceSpec(cluster.kube, ref, { publishNotReadyAddresses: true });
    await answersOnly('publishNotReadyAddresses switched back to true');
  });

  it('without publishNotReadyAddresses: a terminating pod that is no longer ready gets no traffic, the ClusterIP and every NodePort refuse', async () => {
    const client = clients.at(-1)!;
    const spec = service('hide-not-ready').spec!;
    const addresses = [
      hostPort(spec.clusterIP!, 80),
      ...cluster.nodes.map((n) => hostPort(n.internalIP, spec.ports![0].nodePort!)),
    ];
    for (const address of addresses) {
      const dial = await client.dial(address);
      expect(
        dial.outcome,
        because(readiness, `${address} from pod ${client.name} on ${client.node}: ${dial.outcome} ${dial.error ?? ''}`),
      ).toBe('refused');
    }
  });

  it('internalTrafficPolicy Cluster: with no ready endpoint, pods on every node reach the terminating one', async () => {
    for (const client of clients) {
      const { tally, seen } = await ask(client, clusterIPOf('fallback'));
      expect(tally.answers, because(readiness, seen)).toEqual({ [TERMINATING]: TRIES });
    }
  });

  it("internalTrafficPolicy Local: with no ready endpoint, a pod on the endpoint's node reaches the terminating one", async () => {
    const { tally, seen } = await ask(clients[0], clusterIPOf('fallback-local'));
    expect(tally.answers, because(readiness, seen)).toEqual({ [TERMINATING]: TRIES });
  });

  it('internalTrafficPolicy Local: a pod on a node without an endpoint gets no answer from the terminating one', async ({
    skip,
  }) => {
    if (needsTwo) skip(needsTwo);
    for (const client of clients.slice(1)) {
      const tally = await client.http(clusterIPOf('fallback-local'));
      expect(
        tally.ok,
        because(
          readiness,
          `${clusterIPOf('fallback-local')} from pod ${client.name} on ${client.node} (no endpoint there): ${describeTally(tally)}`,
        ),
      ).toBe(0);
    }
  });

  it("externalTrafficPolicy Cluster: with no ready endpoint, every node's NodePort reaches the terminating one from pods on every node", async () => {
    for (const client of clients)
      for (const node of cluster.nodes) {
        const { tally, seen } = await ask(client, nodePortOf('fallback-nodeport', node));
        expect(tally.answers, because(readiness, seen)).toEqual({ [TERMINATING]: TRIES });
      }
  });

  it("externalTrafficPolicy Local: with no ready endpoint, the endpoint's node's NodePort reaches the terminating one from pods on every node", async () => {
    for (const client of clients) {
      const { tally, seen } = await ask(client, nodePortOf('fallback-nodeport-local', endpointNode));
      expect(tally.answers, because(readiness, seen)).toEqual({ [TERMINATING]: TRIES });
    }
  });

  it('externalTrafficPolicy Local: a node without an endpoint does not answer on its NodePort, terminating or not', async ({
    skip,
  }) => {
    if (needsTwo) skip(needsTwo);
    for (const node of others) {
      const url = nodePortOf('fallback-nodeport-local', node);
      const tally = await clients[0].http(url);
      expect(
        tally.ok,
        because(
          readiness,
          `${url} from pod ${clients[0].name} on ${clients[0].node} (no endpoint on ${node.name}): ${describeTally(tally)}`,
        ),
      ).toBe(0);
    }
  });

  it('a Service whose only pod was evicted (Eviction API) is left without endpoints and refuses', async () => {
    const before = await answeredBy(cluster, clients[0], clusterIPOf(EVICTED), EVICTED);
    expect(
      before.answers,
      because(readiness, `before the eviction, ${clusterIPOf(EVICTED)}: ${describeTally(before)}`),
    ).toHaveProperty(EVICTED);
    await evictPod(cluster, ns, EVICTED);
    const left = await waitForNoEndpoints(cluster, ns, EVICTED);
    expect(left, because(readiness, `EndpointSlices of ${ns}/${EVICTED} after its only pod was evicted`)).toEqual([]);
    const address = hostPort(service(EVICTED).spec!.clusterIP!, 80);
    const dial = await clients[0].dialUntil(address, 'refused');
    expect(dial.outcome, because(readiness, `${address} after the eviction: ${dial.outcome} ${dial.error ?? ''}`)).toBe(
      'refused',
    );
  });

  // Upstream's "should be rejected for evicted pods": the kubelet's eviction leaves the pod object, Failed, behind;
  // even with publishNotReadyAddresses it must not stay an endpoint.
  it('a Service (publishNotReadyAddresses) whose only pod its kubelet evicted for ephemeral storage is left without endpoints and refuses', async () => {
    const pod = await waitFor(
      `pod ${ns}/${KUBELET_EVICTED} (10 MiB written, limit 5 MiB) evicted by the kubelet of ${endpointNode.name}`,
      cluster.settings.timeouts.podsReady,
      async () => {
        const p = await cluster.kube.core.readNamespacedPod({ namespace: ns, name: KUBELET_EVICTED });
        // Terminal either way: Failed, or Succeeded where netexec exits 0 on the eviction's SIGTERM (as upstream's wait allows).
        return { done: ['Failed', 'Succeeded'].includes(p.status?.phase ?? ''), seen: describePod(p), value: p };
      },
    );
    // The kubelet's own record of the eviction: the pod's status keeps reason Evicted only where its container
    // died of the signal (netexec exits 0 on SIGTERM, and the kubelet of v1.34 then reports Succeeded, no reason).
    const events = await cluster.kube.core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${KUBELET_EVICTED},reason=Evicted`,
    });
    expect(
      events.items.map((e) => e.message),
      because(readiness, `the kubelet's Evicted events for ${KUBELET_EVICTED}, which ended ${describePod(pod)}`),
    ).not.toEqual([]);
    const left = await waitForNoEndpoints(cluster, ns, KUBELET_EVICTED);
    expect(
      left,
      because(
        readiness,
        `EndpointSlices of ${ns}/${KUBELET_EVICTED} (publishNotReadyAddresses) once its pod was evicted`,
      ),
    ).toEqual([]);
    const address = hostPort(service(KUBELET_EVICTED).spec!.clusterIP!, 80);
    const dial = await clients[0].dialUntil(address, 'refused');
    expect(dial.outcome, because(readiness, `${address} after the eviction: ${dial.outcome} ${dial.error ?? ''}`)).toBe(
      'refused',
    );
  });

  // Upstream's blue/green deployment (pod_lifecycle.go): readiness gates decide which pod serves, and the
  // switch loses no request. Fails when kube-proxy sends to an endpoint that is not ready (blue still answers),
  // or drops the Service's rules while it writes the new ones (requests fail during the switch).
  it('blue/green with readiness gates: the ClusterIP moves from blue to green as their gates turn, and no request fails meanwhile', async () => {
    const client = clients.at(-1)!;
    const url = clusterIPOf(BLUE_GREEN);
    const seen = (t: Tally) => `${url} from pod ${client.name} on ${client.node}: ${describeTally(t)}`;
    await setReadyGate(cluster, ns, BLUE_GREEN, BLUE, true);
    const blue = await answersSettlingOn(cluster, client, url, [BLUE], TRIES);
    expect(blue.answers, because(readiness, `blue's gate true, green's not: ${seen(blue)}`)).toEqual({ [BLUE]: TRIES });

    // The switch, under load from the client: green's gate true, then blue's false.
    let switching = true;
    const during: Tally[] = [];
    const load = (async () => {
      while (switching) during.push(await client.http(url, { count: 10 }));
    })();
    try {
      await setReadyGate(cluster, ns, BLUE_GREEN, GREEN, true);
      await setReadyGate(cluster, ns, BLUE_GREEN, BLUE, false);
    } finally {
      switching = false;
      await load;
    }
    const green = await answersSettlingOn(cluster, client, url, [GREEN], ONLY_GREEN);
    expect(green.answers, because(readiness, `green's gate true, blue's false: ${seen(green)}`)).toEqual({
      [GREEN]: ONLY_GREEN,
    });
    const failed = during.filter((t) => t.ok < t.count);
    expect(
      failed.map(seen),
      because(readiness, `requests that failed while the gates turned (${during.length} bursts of 10)`),
    ).toEqual([]);
  });
});
