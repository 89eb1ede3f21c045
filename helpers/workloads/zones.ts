// Topology-aware routing (trafficDistribution): which zone each node is in, and a client's
// answers from a Service once kube-proxy has applied the EndpointSlices' hints. kube-proxy keeps
// routing to every endpoint until it has synced the hints, so the answers are read again until
// they come only from the expected pods or the sync budget ends; the caller judges the last ones.
import type * as k8s from '@kubernetes/client-node';
import { ZONE_LABEL } from '../cluster/provider.js';
import type { Cluster } from '../cluster/cluster.js';
import { waitFor } from '../kube/wait.js';
import type { ClientPod, Tally } from './client-pod.js';
import { serviceFor } from './hostnames.js';

/** Each node's zone (topology.kubernetes.io/zone), by node name; nodes without one are left out. */
export async function nodeZones(cluster: Cluster): Promise<Map<string, string>> {
  const { items } = await cluster.kube.core.listNode();
  return new Map(
    items.flatMap((n) => (n.metadata?.labels?.[ZONE_LABEL] ? [[n.metadata.name!, n.metadata.labels[ZONE_LABEL]]] : [])),
  );
}

/** The pods that answered, sorted. */
export function answeredBy(tally: Tally): string[] {
  return Object.keys(tally.answers).sort();
}

/**
 * `count` requests from `client` to `url`, again until every one is answered by exactly the
 * `expected` pods (each at least once), within the Service sync budget. Returns the last tally.
 */
export async function answersSettlingOn(
  cluster: Cluster,
  client: ClientPod,
  url: string,
  expected: string[],
  count: number,
): Promise<Tally> {
  const want = [...expected].sort().join(',');
  let last: Tally | undefined;
  try {
    await waitFor(
      `${url} from pod ${client.name} on ${client.node} answered by ${want} alone`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        last = await client.http(url, { count, concurrency: 4 });
        const seen = answeredBy(last).join(',');
        return { done: last.ok === count && seen === want, seen: `${last.ok}/${count} answered, by ${seen || 'none'}` };
      },
    );
  } catch {
    // the caller's expectation reports the last answers
  }
  return last!;
}

/** The trafficDistribution values, and `Auto`: topology-aware hints by the service.kubernetes.io/topology-mode annotation. */
export const DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode', 'Auto'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';

/** A Service of one trafficDistribution; `refused` says why the API server would not take it (a minor without it). */
export interface DistributedService {
  name: string;
  clusterIP?: string;
  refused?: string;
}

/** prefer-close for PreferClose, and so on; topology-auto for the annotation. */
export function serviceNameOf(distribution: Distribution): string {
  if (distribution === 'Auto') return 'topology-auto';
  return distribution.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`);
}

/** A Service with `distribution` (or topology-mode Auto) in front of the pods `selector` matches, port 80 → the hostnames port. */
export async function createDistributedService(
  cluster: Cluster,
  namespace: string,
  selector: Record<string, string>,
  distribution: Distribution,
): Promise<DistributedService> {
  const name = serviceNameOf(distribution);
  const service = serviceFor(cluster, namespace, name, selector);
  if (distribution === 'Auto') service.metadata!.annotations = { [TOPOLOGY_MODE]: 'Auto' };
  else service.spec!.trafficDistribution = distribution;
  try {
    const [applied] = (await cluster.kube.apply(service)) as [k8s.V1Service];
    return { name, clusterIP: applied.spec!.clusterIP! };
  } catch (error) {
    const message = (error as Error).message;
    if (!/Unsupported value|supported values/i.test(message)) throw error;
    return { name, refused: `the API server refuses trafficDistribution ${distribution}: ${message.split('\n')[0]}` };
  }
}

/** Each endpoint's hints in the Service's EndpointSlices, by pod name: the zones and nodes it is meant for. */
export async function endpointHints(
  cluster: Cluster,
  namespace: string,
  distribution: Distribution,
): Promise<Record<string, { zones: string[]; nodes: string[] }>> {
  const { items } = await cluster.kube.discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: `kubernetes.io/service-name=${serviceNameOf(distribution)}`,
  });
  return Object.fromEntries(
    items
      .flatMap((slice) => slice.endpoints)
      .map((e) => [
        e.targetRef?.name ?? e.addresses.join(','),
        {
          zones: (e.hints?.forZones ?? []).map((z) => z.name),
          nodes: ((e.hints as { forNodes?: { name: string }[] } | undefined)?.forNodes ?? []).map((n) => n.name),
        },
      ]),
  );
}
