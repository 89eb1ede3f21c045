// Knowing from the data path that kube-proxy has caught up with the EndpointSlices. kube-proxy
// reads every slice from one watch, in the order the API server wrote them, and each sync applies
// every change read so far. A marker Service whose only pod is deleted after the changes a check
// is about: once the marker's ClusterIP refuses from a pod on a node, kube-proxy on that node has
// synced those changes too. A check that expects a Service to go on answering (from an unready or
// terminating pod) then cannot pass on rules written before the change.
import type * as k8s from '@kubernetes/client-node';
import { hostPort } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import { waitFor } from '../kube/wait.js';
import type { BackendPod } from './backends.js';
import type { ClientPod } from './client-pod.js';
import { waitForEndpointConditions } from './endpoint-conditions.js';
import { HOSTNAMES_PORT } from './hostnames.js';
import { waitForProgrammed } from './programmed.js';
import { startServerPod, waitForServerPod } from './server-pods.js';
import { applyServiceOver } from './service-over.js';

const MARKER = 'sync-marker';

export interface SyncMarker {
  namespace: string;
  service: k8s.V1Service;
  pod: BackendPod;
}

/** The marker's pod (on `node`) and Service, answering and programmed on every node. */
export async function deploySyncMarker(cluster: Cluster, namespace: string, node: string): Promise<SyncMarker> {
  const labels = { app: MARKER };
  await startServerPod(cluster, namespace, { name: MARKER, node, labels, readiness: 'listening' });
  const service = await applyServiceOver(cluster, namespace, MARKER, labels);
  const pod = await waitForServerPod(cluster, namespace, MARKER);
  const ready = { ready: true, serving: true, terminating: false };
  await waitForEndpointConditions(cluster, namespace, MARKER, MARKER, ready);
  await waitForProgrammed(cluster, service, [pod], [hostPort(pod.ip, HOSTNAMES_PORT)], 'server');
  return { namespace, service, pod };
}

/**
 * Deletes the marker's pod, then waits until its ClusterIP refuses from every client: kube-proxy
 * on each client's node has synced every EndpointSlice change made before this call.
 */
export async function waitForProxiesPast(cluster: Cluster, marker: SyncMarker, clients: ClientPod[]): Promise<void> {
  await cluster.kube.core.deleteNamespacedPod({
    namespace: marker.namespace,
    name: marker.pod.name,
    gracePeriodSeconds: 0,
  });
  const address = hostPort(marker.service.spec!.clusterIP!, marker.service.spec!.ports![0].port);
  await Promise.all(
    clients.map((client) =>
      waitFor(
        `kube-proxy on ${client.node} past the changes before it (${MARKER} ${address} refusing from pod ${client.name})`,
        cluster.settings.timeouts.serviceSync,
        async () => {
          const dial = await client.dial(address);
          return { done: dial.outcome === 'refused', seen: `${dial.outcome} ${dial.error ?? ''}`.trim() };
        },
      ),
    ),
  );
}
