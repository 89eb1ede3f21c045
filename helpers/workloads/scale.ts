// Backends that change in place: the guide's Deployment scaled, or one of its pods deleted, and
// then waited for until the change has reached the data path's inputs: the Deployment's pods
// Ready, each Service's EndpointSlices listing exactly those pods as ready (a pod scaled away or
// deleted gone from them), and kube-proxy sending each Service to exactly them on every node.
import type * as k8s from '@kubernetes/client-node';
import { familyOf, hostPort } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import { endpointSliceAddresses } from '../kube/services.js';
import { waitFor, WaitTimeoutError } from '../kube/wait.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { HOSTNAMES_PORT, type Hostnames } from './hostnames.js';
import { waitForProgrammed } from './programmed.js';

/**
 * The backends after a change: Ready and listed as exactly the Services' ready endpoints. `unprogrammed` says
 * what kube-proxy had not done when its budget ended: the data path then shows the same, and the check says so.
 */
export interface Settled {
  pods: BackendPod[];
  unprogrammed?: string;
}

/** Scales the app's Deployment to `replicas` and waits until every Service in `services` sends to exactly its pods. */
export async function scaleBackends(
  cluster: Cluster,
  app: Hostnames,
  replicas: number,
  services: k8s.V1Service[],
): Promise<Settled> {
  const ref = { namespace: app.namespace, name: app.deployment.metadata!.name! };
  const scale = await cluster.kube.apps.readNamespacedDeploymentScale(ref);
  if (scale.spec?.replicas !== replicas)
    await cluster.kube.apps.replaceNamespacedDeploymentScale({ ...ref, body: { ...scale, spec: { replicas } } });
  return settledBackends(cluster, app, replicas, services);
}

/** Deletes one backend pod (its own grace period) and waits until the Services send to exactly its replacement set. */
export async function deleteBackend(
  cluster: Cluster,
  app: Hostnames,
  pod: BackendPod,
  services: k8s.V1Service[],
): Promise<Settled> {
  const scale = await cluster.kube.apps.readNamespacedDeploymentScale({
    namespace: app.namespace,
    name: app.deployment.metadata!.name!,
  });
  await cluster.kube.core.deleteNamespacedPod({ namespace: app.namespace, name: pod.name });
  return settledBackends(cluster, app, scale.spec?.replicas ?? 0, services);
}

async function settledBackends(
  cluster: Cluster,
  app: Hostnames,
  replicas: number,
  services: k8s.V1Service[],
): Promise<Settled> {
  const selector = app.deployment.spec!.selector.matchLabels!;
  const container = app.deployment.spec!.template.spec!.containers[0].name;
  const pods = await waitForReadyBackends(cluster, app.namespace, selector, replicas, app.name);
  const unprogrammed: string[] = [];
  for (const service of services) {
    await waitForExactEndpoints(cluster, service, pods);
    const destinations = pods.map((p) => hostPort(p.ip, HOSTNAMES_PORT));
    await waitForProgrammed(cluster, service, pods, destinations, container).catch((error: unknown) => {
      if (!(error instanceof WaitTimeoutError)) throw error;
      unprogrammed.push(error.message);
    });
  }
  return { pods, unprogrammed: unprogrammed.join('; ') || undefined };
}

/**
 * Waits until the Service's EndpointSlices list exactly these pods as ready: none more (a pod gone), none fewer.
 * On a dual-stack Service, the slices of the pods' own family (their primary addresses).
 */
async function waitForExactEndpoints(cluster: Cluster, service: k8s.V1Service, pods: BackendPod[]): Promise<void> {
  const { namespace, name } = service.metadata as { namespace: string; name: string };
  const want = pods.map((p) => p.ip).sort();
  const family = pods.length ? familyOf(pods[0].ip) : undefined;
  await waitFor(
    `EndpointSlices of ${namespace}/${name} listing exactly ${want.join(', ') || 'no ready endpoint'}`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const ready = (await endpointSliceAddresses(cluster.kube, namespace, name)).filter(
        (e) => e.ready && (!family || familyOf(e.ip) === family),
      );
      const ips = [...new Set(ready.map((e) => e.ip))].sort();
      return { done: ips.join() === want.join(), seen: `ready endpoints: ${ips.join(', ') || 'none'}` };
    },
  );
}
