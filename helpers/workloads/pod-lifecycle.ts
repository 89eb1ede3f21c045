// The ways a backend pod leaves that the readiness specs put a Service through, each waited for
// as the API shows it: deleted and kept terminating (its grace period), or evicted through the
// Eviction API.
import type { Cluster } from '../cluster/cluster.js';
import { isNotFound } from '../kube/client.js';
import { describePod } from '../kube/pods.js';
import { waitFor } from '../kube/wait.js';

/** Deletes the pod with its own grace period and waits until the API marks it terminating. */
export async function terminatePod(cluster: Cluster, namespace: string, name: string): Promise<void> {
  await cluster.kube.core.deleteNamespacedPod({ namespace, name });
  await waitFor(`pod ${namespace}/${name} terminating`, cluster.settings.timeouts.podsReady, async () => {
    const pod = await cluster.kube.core.readNamespacedPod({ namespace, name });
    return { done: !!pod.metadata?.deletionTimestamp, seen: describePod(pod) };
  });
}

/** Evicts the pod through the Eviction API (as kubectl drain does) and waits until it is gone. */
export async function evictPod(cluster: Cluster, namespace: string, name: string): Promise<void> {
  await cluster.kube.core.createNamespacedPodEviction({
    namespace,
    name,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { namespace, name } },
  });
  await waitFor(`evicted pod ${namespace}/${name} gone`, cluster.settings.timeouts.podsReady, async () => {
    try {
      return { done: false, seen: describePod(await cluster.kube.core.readNamespacedPod({ namespace, name })) };
    } catch (error) {
      if (isNotFound(error)) return { done: true, seen: 'gone' };
      throw error;
    }
  });
}
