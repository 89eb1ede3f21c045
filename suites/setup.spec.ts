// suites/setup.spec.ts — guide: "Running commands in a Pod" (the setup the guide builds on)
// Proves: the hostnames Deployment reaches 3 ready replicas and each pod answers its own name on podIP:9376.
// A failure usually means: the image is missing on the nodes, or the container listens on another port.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, HOSTNAMES_PORT, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

describe('Running commands in a Pod', () => {
  const cluster = useCluster();
  const ns = useNamespace('setup');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod;

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, { programmed: false }),
      startClientPod(cluster, ns),
    ]);
  });

  it('runs 3 ready replicas of hostnames', async () => {
    const deployment = await cluster.kube.apps.readNamespacedDeployment({ namespace: ns, name: 'hostnames' });
    expect(deployment.status?.readyReplicas, because('setup', 'ready replicas of Deployment hostnames')).toBe(3);
    expect((await app.backendsNow()).map((p) => p.ip).filter(Boolean), because('setup', 'pod IPs')).toHaveLength(3);
  });

  it(`answers each pod's own name on podIP:${HOSTNAMES_PORT}`, async () => {
    for (const pod of await app.backendsNow()) {
      const tally = await client.http(`http://${hostPort(pod.ip, HOSTNAMES_PORT)}/`);
      expect(
        tally.answers,
        because('setup', `pod ${pod.name} at ${hostPort(pod.ip, HOSTNAMES_PORT)}: ${tally.sampleError ?? ''}`),
      ).toEqual({ [pod.name]: 1 });
    }
  });
});
