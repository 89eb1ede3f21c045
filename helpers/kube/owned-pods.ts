// The pods a workload owns, found by the ownerReferences its controllers write (a Deployment
// owns ReplicaSets, which own pods; a StatefulSet owns its pods), never by the Service's
// EndpointSlices: what a check compares those slices, or DNS built on them, with.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';
import { isPodReady } from './pods.js';

export interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
}

/** Whether one of `owners` (uids) is the object's controller. */
function controlledBy(object: k8s.KubernetesObject, owners: Set<string>): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.controller && owners.has(ref.uid));
}

/** The pods of `pods` that one of `owners` controls, not being deleted, and Ready; sorted by name. */
export function readyPodsControlledBy(pods: k8s.V1Pod[], owners: Set<string>): k8s.V1Pod[] {
  return pods
    .filter((p) => controlledBy(p, owners) && !p.metadata?.deletionTimestamp && isPodReady(p))
    .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** The workload's Ready pods now, through its ReplicaSets for a Deployment. */
export async function readyPodsOwnedBy(kube: Kube, namespace: string, workload: Workload): Promise<k8s.V1Pod[]> {
  const read = { namespace, name: workload.name };
  const owner =
    workload.kind === 'Deployment'
      ? await kube.apps.readNamespacedDeployment(read)
      : await kube.apps.readNamespacedStatefulSet(read);
  let owners = new Set([owner.metadata!.uid!]);
  if (workload.kind === 'Deployment') {
    const sets = (await kube.apps.listNamespacedReplicaSet({ namespace })).items;
    owners = new Set(sets.filter((s) => controlledBy(s, owners)).map((s) => s.metadata!.uid!));
  }
  return readyPodsControlledBy((await kube.core.listNamespacedPod({ namespace })).items, owners);
}
