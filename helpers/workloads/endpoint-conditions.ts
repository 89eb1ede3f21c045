// What a Service's EndpointSlices say of one pod: ready, serving, terminating (KEP-1672), as the
// EndpointSlice controller wrote them. The readiness and termination checks wait on these, the
// API's view, before they ask the data path what kube-proxy made of it.
import type { Cluster } from '../cluster/cluster.js';
import { endpointSlicesOf } from '../kube/services.js';
import { waitFor } from '../kube/wait.js';

export interface EndpointConditions {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** The conditions of the pod's endpoint in the Service's slices; undefined when no slice lists it. */
export async function endpointConditionsOf(
  cluster: Cluster,
  namespace: string,
  service: string,
  pod: string,
): Promise<EndpointConditions | undefined> {
  const slices = await endpointSlicesOf(cluster.kube, namespace, service);
  const endpoint = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.targetRef?.name === pod);
  if (!endpoint) return undefined;
  const c = endpoint.conditions ?? {};
  return { ready: c.ready ?? false, serving: c.serving ?? false, terminating: c.terminating ?? false };
}

/** "ready=false serving=true terminating=true", or "not listed". */
export function describeConditions(conditions: EndpointConditions | undefined): string {
  if (!conditions) return 'not listed';
  return `ready=${conditions.ready} serving=${conditions.serving} terminating=${conditions.terminating}`;
}

/** Waits until the Service's slices list the pod with exactly these conditions. */
export async function waitForEndpointConditions(
  cluster: Cluster,
  namespace: string,
  service: string,
  pod: string,
  want: EndpointConditions,
): Promise<void> {
  await waitFor(
    `${pod} listed ${describeConditions(want)} in the EndpointSlices of ${namespace}/${service}`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const seen = await endpointConditionsOf(cluster, namespace, service, pod);
      return { done: describeConditions(seen) === describeConditions(want), seen: describeConditions(seen) };
    },
  );
}

/** Waits until the Service's slices list no endpoint at all; returns what they listed last. */
export async function waitForNoEndpoints(cluster: Cluster, namespace: string, service: string): Promise<string[]> {
  let listed: string[] = [];
  await waitFor(
    `no endpoints left in the EndpointSlices of ${namespace}/${service}`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const slices = await endpointSlicesOf(cluster.kube, namespace, service);
      listed = slices.flatMap((s) => s.endpoints ?? []).map((e) => e.targetRef?.name ?? e.addresses.join(','));
      return { done: listed.length === 0, seen: listed.join(', ') || 'none' };
    },
  ).catch(() => undefined);
  return listed;
}
