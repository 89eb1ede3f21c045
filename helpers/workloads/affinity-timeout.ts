// sessionAffinityConfig.clientIP.timeoutSeconds as one client sees it. kube-proxy keeps one
// affinity record per client address and Service port, refreshed by each new connection; after
// timeoutSeconds without one the record lapses, and the next connection is balanced afresh. A
// lapse shows only when that fresh choice differs, so the Service has several ports, each with
// its own record: one quiet period gives every port an independent draw.
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import type { ClientPod, Tally } from './client-pod.js';
import { LOOK_REQUESTS, stickyBackend } from './affinity.js';
import { httpEach } from './http-each.js';

/**
 * Ports of a lapse Service. With 3 backends each port's fresh choice keeps its old backend with
 * probability 1/3, so no port moving after a lapse has probability 3^-10 ≈ 1.7e-5 (upstream sends
 * a request after each of up to nine 130 s waits: 3^-9).
 */
export const LAPSE_PORTS = 10;

/** The timeoutSeconds a lapse Service gets: short, yet far longer than a look's gaps between connections. */
export const AFFINITY_TIMEOUT_SECONDS = 5;

/** Gives the Service LAPSE_PORTS ports (80, 81, …) to the same target port, ClientIP affinity and a short timeout. */
export function withAffinityTimeout(service: k8s.V1Service): void {
  const [first] = service.spec!.ports!;
  service.spec!.ports = Array.from({ length: LAPSE_PORTS }, (_, i) => ({
    ...first,
    name: `p${i}`,
    port: first.port + i,
  }));
  service.spec!.sessionAffinity = 'ClientIP';
  service.spec!.sessionAffinityConfig = { clientIP: { timeoutSeconds: AFFINITY_TIMEOUT_SECONDS } };
}

export interface PortLapse {
  url: string;
  /** A look before the quiet period: every request on one backend. */
  before: Tally;
  /** The one request after it. */
  after: Tally;
}

/** The port moved to another backend after the quiet period (both sides answered). */
export function moved(lapse: PortLapse): boolean {
  const before = stickyBackend(lapse.before);
  const after = Object.keys(lapse.after.answers);
  return !!before && lapse.after.ok === 1 && after[0] !== before;
}

/**
 * For each URL (one per port): a look from the client, then the client stays silent for the
 * Service's timeoutSeconds and one second more, then one request. The quiet period is the
 * behaviour under test, so it is a fixed wait, bounded by the timeout the Service was given.
 */
export async function acrossAffinityTimeout(
  cluster: Cluster,
  client: ClientPod,
  urls: string[],
  timeoutSeconds: number,
): Promise<PortLapse[]> {
  const before = await httpEach(cluster, client, urls, { count: LOOK_REQUESTS });
  await quietForAffinityTimeout(timeoutSeconds);
  const after = await httpEach(cluster, client, urls, { count: 1 });
  return urls.map((url, i) => ({ url, before: before[i], after: after[i] }));
}

/** No traffic from the client for timeoutSeconds and one second more, so every record it left has lapsed. */
function quietForAffinityTimeout(timeoutSeconds: number): Promise<void> {
  return sleep((timeoutSeconds + 1) * 1000);
}
