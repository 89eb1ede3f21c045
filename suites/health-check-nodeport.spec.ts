// suites/health-check-nodeport.spec.ts — beyond the guide: the health-check NodePort
// Proves: for a Service with externalTrafficPolicy: Local (type LoadBalancer, which alone gets a healthCheckNodePort;
// no load balancer is needed, kube-proxy serves the port), kube-proxy answers 200 on a node with a ready local
// endpoint, 503 on a node without one and 503 once its only local endpoint is terminating (while the NodePort still
// answers from it); switching the policy to Cluster releases the port and Local allocates one again. One Service
// taken Local → Cluster → Local in place (3 nodes): at each step its NodePort answers a hostNetwork pod as the policy
// says (Local: the endpoint's node with the client's address kept, and the client's own node; not a third node;
// Cluster: every node), the health check follows, and the old healthCheckNodePort can be asked for again.
// A failure usually means: kube-proxy's service health server is not running or not updated from the EndpointSlices,
// it counts terminating or remote endpoints as local, or it keeps or never opens the port when the policy changes.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { startClientPod, type ClientPod, type Tally } from '../helpers/workloads/client-pod.js';
import { waitForEndpointConditions } from '../helpers/workloads/endpoint-conditions.js';
import { waitForHealthCheck, type HealthCheck } from '../helpers/workloads/health-check.js';
import { hostNetworkNamespace, startHostNetworkClient } from '../helpers/workloads/host-network.js';
import { terminatePod } from '../helpers/workloads/pod-lifecycle.js';
import { startServerPod, waitForServerPod } from '../helpers/workloads/server-pods.js';
import { applyServiceOver } from '../helpers/workloads/service-over.js';
import { hostOf, hostPort } from '../helpers/address.js';

const BACKEND = { app: 'hc-backend' };
const TERMINATING = { app: 'hc-terminating' };

const healthCheck = section('Beyond the guide: health-check NodePort', {
  next: "kube-proxy serves spec.healthCheckNodePort on every node for a Service with externalTrafficPolicy Local: check the Service's healthCheckNodePort, that kube-proxy runs on the node and listens on that port (ss -ltnp), and the node's ready local endpoints in the EndpointSlices",
  verdict: (ev) => {
    const down = ev.nodes.filter((n) => n.kubeProxy && !n.kubeProxy.running).map((n) => n.node);
    if (down.length) return `kube-proxy is not running on ${down.join(', ')}: nothing there serves the health check`;
    const spec = ev.serviceSpec;
    if (spec?.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort)
      return `${ev.namespace}/${ev.service} has externalTrafficPolicy Local but no healthCheckNodePort: the API server allocated none`;
    return undefined;
  },
});

/** A LoadBalancer Service (no implementation needed) with the given externalTrafficPolicy. */
const loadBalancer = (policy: 'Local' | 'Cluster') => (s: k8s.V1Service) =>
  Object.assign(s.spec!, { type: 'LoadBalancer', externalTrafficPolicy: policy });

describe(healthCheck.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('health-check');
  useDiagnosis(ns, 'hc-local', 'hc-terminating', 'hc-through');
  const [withBackend, ...without] = cluster.nodes;
  const needsTwo = without.length
    ? undefined
    : 'needs 2 nodes (one with the local endpoint, one without); this cluster has 1';
  const needsThree =
    cluster.nodes.length >= 3
      ? undefined
      : `needs 3 nodes (the endpoint's, the hostNetwork client's and one with neither); this cluster has ${cluster.nodes.length}`;
  let client: ClientPod, hostClient: ClientPod | undefined;
  let local: k8s.V1Service, terminating: k8s.V1Service, toCluster: k8s.V1Service, toLocal: k8s.V1Service;
  let through: k8s.V1Service;

  /** The health check of `service` at `node`'s address, once it answers `answer` (or the sync budget is spent). */
  const healthAt = (node: { internalIP: string }, service: k8s.V1Service, answer: string) =>
    waitForHealthCheck(cluster, client, node.internalIP, service.spec!.healthCheckNodePort!, answer);
  const seen = (service: k8s.V1Service, node: { name: string }, reading: HealthCheck) =>
    `health check of ${ns}/${service.metadata!.name} on ${node.name} (port ${service.spec!.healthCheckNodePort}) from pod ${client.name}: ${reading.detail}`;

  beforeAll(async () => {
    const node = withBackend.name;
    [client, local, terminating, toCluster, toLocal, through, hostClient] = await Promise.all([
      startClientPod(cluster, ns, { node }),
      applyServiceOver(cluster, ns, 'hc-local', BACKEND, loadBalancer('Local')),
      applyServiceOver(cluster, ns, 'hc-terminating', TERMINATING, loadBalancer('Local')),
      applyServiceOver(cluster, ns, 'hc-to-cluster', BACKEND, loadBalancer('Local')),
      applyServiceOver(cluster, ns, 'hc-to-local', BACKEND, loadBalancer('Cluster')),
      applyServiceOver(cluster, ns, 'hc-through', BACKEND, loadBalancer('Local')),
      // In a node's network on another node than the endpoint's, as upstream's hostexec pod.
      needsThree
        ? undefined
        : hostNetworkNamespace(cluster, 'health-check-host').then((hostNs) =>
            startHostNetworkClient(cluster, hostNs, 'host-client', without[0].name),
          ),
      startServerPod(cluster, ns, { name: 'backend', node, labels: BACKEND, readiness: 'listening' }),
      startServerPod(cluster, ns, {
        name: 'terminating',
        node,
        labels: TERMINATING,
        readiness: 'listening',
        keepServingSeconds: 600,
      }),
    ]);
    await Promise.all([waitForServerPod(cluster, ns, 'backend'), waitForServerPod(cluster, ns, 'terminating')]);
  });

  it('answers 200 on the health-check NodePort of a node with a ready local endpoint, counting 1 endpoint', async () => {
    const reading = await healthAt(withBackend, local, '200');
    expect(reading.answer, because(healthCheck, seen(local, withBackend, reading))).toBe('200');
    expect(
      { service: reading.service, localEndpoints: reading.localEndpoints },
      because(healthCheck, `${seen(local, withBackend, reading)}: not this Service's answer, or a wrong count`),
    ).toEqual({ service: `${ns}/hc-local`, localEndpoints: 1 });
  });

  it('answers 503 on the health-check NodePort of a node without a local endpoint', async ({ skip }) => {
    if (needsTwo) skip(needsTwo);
    for (const node of without) {
      const reading = await healthAt(node, local, '503');
      expect(reading.answer, because(healthCheck, `${seen(local, node, reading)} (no endpoint there)`)).toBe('503');
    }
  });

  it("answers 503 once the node's only endpoint is terminating, while its NodePort still answers from it", async () => {
    const before = await healthAt(withBackend, terminating, '200');
    expect(
      before.answer,
      because(healthCheck, `before the pod is deleted: ${seen(terminating, withBackend, before)}`),
    ).toBe('200');
    await terminatePod(cluster, ns, 'terminating');
    await waitForEndpointConditions(cluster, ns, 'hc-terminating', 'terminating', {
      ready: false,
      serving: true,
      terminating: true,
    });
    const after = await healthAt(withBackend, terminating, '503');
    expect(
      after.answer,
      because(healthCheck, `its only endpoint terminating: ${seen(terminating, withBackend, after)}`),
    ).toBe('503');
    const url = `http://${hostPort(withBackend.internalIP, terminating.spec!.ports![0].nodePort!)}/hostname`;
    const tally = await client.http(url, { count: 3 });
    expect(
      tally.answers,
      because(
        healthCheck,
        `${url} from pod ${client.name} while the health check says 503: ${JSON.stringify(tally.answers)} ${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''}`,
      ),
    ).toEqual({ terminating: 3 });
  });

  it('switching externalTrafficPolicy from Local to Cluster releases the health-check NodePort: nothing answers on it', async () => {
    const before = await healthAt(withBackend, toCluster, '200');
    expect(before.answer, because(healthCheck, `with policy Local: ${seen(toCluster, withBackend, before)}`)).toBe(
      '200',
    );
    const changed = await applyServiceOver(cluster, ns, 'hc-to-cluster', BACKEND, loadBalancer('Cluster'));
    expect(
      changed.spec!.healthCheckNodePort,
      because(healthCheck, `${ns}/hc-to-cluster after the switch to Cluster still holds a healthCheckNodePort`),
    ).toBeUndefined();
    for (const node of cluster.nodes) {
      const reading = await healthAt(node, toCluster, 'refused');
      expect(reading.answer, because(healthCheck, `policy now Cluster: ${seen(toCluster, node, reading)}`)).toBe(
        'refused',
      );
    }
  });

  it('switching externalTrafficPolicy from Cluster to Local allocates a health-check NodePort that kube-proxy serves', async () => {
    expect(
      toLocal.spec!.healthCheckNodePort,
      because(healthCheck, `${ns}/hc-to-local with policy Cluster holds a healthCheckNodePort`),
    ).toBeUndefined();
    const changed = await applyServiceOver(cluster, ns, 'hc-to-local', BACKEND, loadBalancer('Local'));
    expect(
      changed.spec!.healthCheckNodePort,
      because(healthCheck, `${ns}/hc-to-local after the switch to Local has no healthCheckNodePort`),
    ).toBeGreaterThan(0);
    const reading = await healthAt(withBackend, changed, '200');
    expect(reading.answer, because(healthCheck, `policy now Local: ${seen(changed, withBackend, reading)}`)).toBe(
      '200',
    );
    for (const node of without) {
      const other = await healthAt(node, changed, '503');
      expect(other.answer, because(healthCheck, `policy now Local: ${seen(changed, node, other)}`)).toBe('503');
    }
  });
  it('one Service switched Local → Cluster → Local in place: its NodePort and health check answer a hostNetwork pod as each policy says, and the old health-check NodePort can be asked for again', async ({
    skip,
  }) => {
    if (needsThree) skip(needsThree);
    const from = hostClient!;
    const [endpointNode, clientNode, third] = [withBackend, without[0], without[1]];
    const nodes = [endpointNode, clientNode, third];
    const nodePort = through.spec!.ports![0].nodePort!;
    /** GET /clientip on `node`'s NodePort from the hostNetwork pod until it answers (or stays silent), as `answers` says. */
    const nodePortAt = (node: { internalIP: string }, answers: boolean) => {
      const url = `http://${hostPort(node.internalIP, nodePort)}/clientip`;
      return probeUntil(
        `${url} ${answers ? 'answering' : 'silent'} to hostNetwork pod ${from.name}`,
        cluster.settings.timeouts.serviceSync,
        () => from.http(url),
        (t) => (t.ok === 1) === answers,
        (t) => JSON.stringify({ answers: t.answers, errors: t.errors }),
      );
    };
    const heard = (step: string, node: { name: string }, t: Tally) =>
      `${step}: NodePort ${nodePort} of ${node.name} from hostNetwork pod ${from.name} on ${clientNode.name}: ${t.ok ? `answered, the backend saw ${Object.keys(t.answers).join(', ')}` : `no answer (${JSON.stringify(t.errors)} ${t.sampleError ?? ''})`}`;
    const healthIs = async (step: string, service: k8s.V1Service, node: (typeof nodes)[number], answer: string) => {
      const reading = await waitForHealthCheck(
        cluster,
        from,
        node.internalIP,
        service.spec!.healthCheckNodePort!,
        answer,
      );
      const where = `health check of ${ns}/hc-through on ${node.name} (port ${service.spec!.healthCheckNodePort}) from hostNetwork pod ${from.name}`;
      expect(reading.answer, because(healthCheck, `${step}: ${where}: ${reading.detail}`)).toBe(answer);
    };
    /** Under Local: the endpoint's node and the client's own node answer, with the client's node address seen; the third does not. */
    const asLocal = async (step: string, service: k8s.V1Service) => {
      await healthIs(step, service, endpointNode, '200');
      await healthIs(step, service, clientNode, '503');
      await healthIs(step, service, third, '503');
      for (const node of [endpointNode, clientNode]) {
        const t = await nodePortAt(node, true);
        expect(
          Object.keys(t.answers).map(hostOf),
          because(healthCheck, `${heard(step, node, t)}; wanted the client's address ${clientNode.internalIP}`),
        ).toEqual([clientNode.internalIP]);
      }
      const silent = await nodePortAt(third, false);
      expect(silent.ok, because(healthCheck, `${heard(step, third, silent)}: it has no local endpoint`)).toBe(0);
    };

    await asLocal('policy Local', through);
    const oldPort = through.spec!.healthCheckNodePort!;

    const asCluster = await applyServiceOver(cluster, ns, 'hc-through', BACKEND, loadBalancer('Cluster'));
    expect(
      asCluster.spec!.healthCheckNodePort,
      because(healthCheck, `${ns}/hc-through after the switch to Cluster still holds healthCheckNodePort ${oldPort}`),
    ).toBeUndefined();
    for (const node of nodes) await healthIs('policy Cluster', through, node, 'refused');
    for (const node of nodes) {
      const t = await nodePortAt(node, true);
      expect(t.ok, because(healthCheck, heard('policy Cluster', node, t))).toBe(1);
    }

    const back = await applyServiceOver(cluster, ns, 'hc-through', BACKEND, (s) => {
      loadBalancer('Local')(s);
      s.spec!.healthCheckNodePort = oldPort;
    });
    expect(
      back.spec!.healthCheckNodePort,
      because(healthCheck, `${ns}/hc-through back to Local, asking for its old healthCheckNodePort ${oldPort}`),
    ).toBe(oldPort);
    await asLocal('Local again', back);
  });
});
