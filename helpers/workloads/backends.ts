// The pods behind a Service: wait until the expected number are Ready and listed as ready
// endpoints in the Service's EndpointSlices, and say what they are doing while they are not.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { endpointSliceAddresses } from '../kube/services.js';
import { refusedForGood, unschedulableForGood } from '../kube/stuck.js';
import { GiveUp, waitFor } from '../kube/wait.js';
import { timePhase } from '../host/phases.js';

export interface BackendPod {
  name: string;
  ip: string;
  node: string;
  uid: string;
}

/** Waits for `count` ready pods matching the labels, and for the Service's EndpointSlices to list each of them. */
export async function waitForReadyBackends(
  cluster: Cluster,
  namespace: string,
  labels: Record<string, string>,
  count: number,
  service: string,
): Promise<BackendPod[]> {
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const budget = cluster.settings.timeouts.podsReady;
  const pods = await timePhase('pod starts', `${namespace}/${selector}`, () =>
    waitFor(`${count} ready pods ${selector} in ${namespace}`, budget, async () => {
      const list = await cluster.kube.core.listNamespacedPod({ namespace, labelSelector: selector });
      const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
      const ready = live.filter(isPodReady);
      // A cause that will not clear by itself ends the wait now, named in the error's first line.
      const unschedulable = live.filter((p) => !p.spec?.nodeName);
      const nodes = unschedulable.length ? (await cluster.kube.core.listNode()).items : [];
      const stuck = unschedulable.map((p) => unschedulableForGood(p, nodes)).find(Boolean);
      if (stuck) throw new GiveUp(`${count} ready pods ${selector} in ${namespace}: ${stuck}`);
      const seen = live.map(describePod).join('; ') || `no pods${await whyNoPods(cluster, namespace, selector)}`;
      return { done: ready.length === count && live.length === count, seen, value: ready.map(toBackend) };
    }),
  );
  await waitFor(
    `EndpointSlices of Service ${namespace}/${service} listing ${count} ready endpoints`,
    budget,
    async () => {
      const endpoints = await endpointSliceAddresses(cluster.kube, namespace, service);
      const ips = new Set(endpoints.filter((e) => e.ready).map((e) => e.ip));
      return { done: pods.every((p) => ips.has(p.ip)), seen: `ready endpoints: ${[...ips].join(', ') || 'none'}` };
    },
  );
  return pods.sort((a, b) => a.name.localeCompare(b.name));
}

/** The Service's ready backends now, from its EndpointSlices: what a check judges answers against. */
export async function readyBackendsNow(cluster: Cluster, namespace: string, service: string): Promise<BackendPod[]> {
  const endpoints = (await endpointSliceAddresses(cluster.kube, namespace, service)).filter(
    (e) => e.ready && e.podName,
  );
  const byPod = new Map(
    endpoints.map((e) => [e.podName!, { name: e.podName!, ip: e.ip, node: e.node ?? '', uid: e.podUid ?? '' }]),
  );
  return [...byPod.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Why a controller made no pods, from its ReplicaSets' ReplicaFailure condition (e.g. Pod Security forbids them). */
async function whyNoPods(cluster: Cluster, namespace: string, selector: string): Promise<string> {
  const sets = await cluster.kube.apps
    .listNamespacedReplicaSet({ namespace, labelSelector: selector })
    .catch(() => undefined);
  const conditions = sets?.items.flatMap((s) => s.status?.conditions ?? []) ?? [];
  const refused = refusedForGood(conditions);
  if (refused) throw new GiveUp(`pods ${selector} in ${namespace} cannot be made: ${refused}`);
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return failure ? ` (${failure.reason}: ${failure.message})` : '';
}

function toBackend(pod: k8s.V1Pod): BackendPod {
  return { name: pod.metadata!.name!, ip: pod.status!.podIP!, node: pod.spec!.nodeName!, uid: pod.metadata!.uid! };
}
