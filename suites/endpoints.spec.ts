// suites/endpoints.spec.ts — guide: "Does the Service have any Endpoints?"
// Proves: Endpoints and EndpointSlices list exactly the ready pods (by IP, port and pod UID);
// a selector typo leaves zero endpoints and is explained; a pod failing readiness leaves the endpoints.
// A failure usually means: selector and pod labels differ, pods not Ready, or the endpoint controllers are down.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { explainNoEndpoints } from '../helpers/diagnose/endpoints.js';
import { execInPod } from '../helpers/kube/exec.js';
import { isPodReady } from '../helpers/kube/pods.js';
import { endpointsOf, endpointSliceAddresses, getService, waitForEndpointObjects } from '../helpers/kube/services.js';
import { waitFor } from '../helpers/kube/wait.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { deployHostnames, hostnamesObjects, HOSTNAMES_PORT, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

/** Readiness that a test can flip: the pod is unready while /tmp/unready is non-empty. */
const flippableReadiness = {
  exec: { command: ['sh', '-c', '[ ! -s /tmp/unready ]'] },
  periodSeconds: 1,
  failureThreshold: 1,
  successThreshold: 1,
};

describe('Does the Service have any Endpoints?', () => {
  const cluster = useCluster();
  const ns = useNamespace('endpoints');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames;
  const expected = async () =>
    (await app.backendsNow())
      .map((p) => ({ address: hostPort(p.ip, HOSTNAMES_PORT), podUid: p.uid, ready: true }))
      .sort(byAddress);
  const listed = (list: { address: string; podUid?: string; ready: boolean }[]) =>
    list.map(({ address, podUid, ready }) => ({ address, podUid, ready })).sort(byAddress);

  beforeAll(async () => {
    app = await deployHostnames(cluster, ns, {
      programmed: false, // the API's endpoints are checked here, not the rules made from them
      tweak: { deployment: (d) => (d.spec!.template.spec!.containers[0].readinessProbe = flippableReadiness) },
    });
  });

  it('lists exactly the ready pods in Endpoints', async () => {
    expect(
      listed(await endpointsOf(cluster.kube, ns, 'hostnames')),
      because('endpoints', 'Endpoints hostnames'),
    ).toEqual(await expected());
  });

  it('lists exactly the ready pods in EndpointSlices', async () => {
    expect(
      listed(await endpointSliceAddresses(cluster.kube, ns, 'hostnames')),
      because('endpoints', 'EndpointSlices of hostnames'),
    ).toEqual(await expected());
  });

  it('has no endpoints when the selector has a typo, and says the selector matches no pods', async () => {
    const { service } = hostnamesObjects(cluster, ns, {
      name: 'hostnames-typo',
      tweak: { service: (s) => (s.spec!.selector = { app: 'hostnamez' }) },
    });
    await cluster.kube.apply(service);
    // Read once the controllers have written its objects: a read before they saw the Service is empty whatever they do.
    await waitForEndpointObjects(cluster.kube, ns, 'hostnames-typo', cluster.settings.timeouts.serviceSync);
    expect(
      await endpointsOf(cluster.kube, ns, 'hostnames-typo'),
      because('endpoints', 'Endpoints of a Service whose selector matches nothing'),
    ).toEqual([]);
    expect(
      await endpointSliceAddresses(cluster.kube, ns, 'hostnames-typo'),
      because('endpoints', 'EndpointSlices of a Service whose selector matches nothing'),
    ).toEqual([]);
    const why = await explainNoEndpoints(cluster.kube, await getService(cluster.kube, ns, 'hostnames-typo'));
    expect(why).toContain('its selector app=hostnamez matches no pods');
    expect(why).toContain('app=hostnames');
  });

  it('drops a pod whose readiness probe fails, and takes it back when it passes', async () => {
    const [victim] = await app.backendsNow();
    const flip = (content: string) =>
      execInPod(cluster.kube, { namespace: ns, name: victim.name }, ['sh', '-c', `printf '${content}' > /tmp/unready`]);
    const readyAddresses = async () =>
      (await endpointSliceAddresses(cluster.kube, ns, 'hostnames'))
        .filter((e) => e.ready)
        .map((e) => e.ip)
        .sort();

    // Judged against the pods' readiness when the endpoints are read: another pod that turned unready
    // meanwhile (a probe timing out on a busy node) must leave the ready endpoints too.
    const readyPodIPs = async () =>
      (await cluster.kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hostnames' })).items
        .filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p))
        .map((p) => p.status!.podIP!)
        .sort();
    await flip('x');
    let seen = { endpoints: [] as string[], pods: [] as string[] };
    const agree = await waitFor(
      `pod ${victim.name} gone from the ready endpoints, which list exactly the Ready pods`,
      30_000,
      async () => {
        seen = { endpoints: await readyAddresses(), pods: await readyPodIPs() };
        const done = !seen.endpoints.includes(victim.ip) && seen.endpoints.join() === seen.pods.join();
        return {
          done,
          seen: `ready endpoints ${seen.endpoints.join(', ')}; Ready pods ${seen.pods.join(', ')}`,
          value: true,
        };
      },
    ).catch(() => false);
    expect(
      agree,
      because(
        'endpoints',
        `after ${victim.name} (${victim.ip}) failed readiness, the ready endpoints are ${seen.endpoints.join(', ') || 'none'} while the Ready pods are ${seen.pods.join(', ') || 'none'}`,
      ),
    ).toBe(true);
    const notReady = (await endpointsOf(cluster.kube, ns, 'hostnames')).filter((e) => !e.ready).map((e) => e.ip);
    expect(notReady, because('endpoints', 'Endpoints notReadyAddresses')).toContain(victim.ip);

    await flip('');
    await waitFor(`pod ${victim.name} back in the ready endpoints`, 30_000, async () => {
      const ready = await readyAddresses();
      return { done: ready.includes(victim.ip), seen: ready.join(', ') };
    });
  });
});

function byAddress(a: { address: string }, b: { address: string }): number {
  return a.address.localeCompare(b.address);
}
