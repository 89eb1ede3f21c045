// Session affinity as one client sees it: a look sends a burst of requests to one address or
// several, each request on a new connection (or a new UDP socket); a tally is sticky when every
// request met the same backend, spread when they met several. Waits until a Service turns sticky
// or spread after its spec.sessionAffinity changed in place (setSessionAffinity), within the
// Service sync budget: kube-proxy's next sync is the change.
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { patchServiceSpec } from '../kube/services.js';
import { probeUntil } from '../kube/probe-until.js';
import type { Tally } from '../parse/svcprobe.js';

/**
 * Requests per look. Spread over 3 backends without affinity, all 30 meet one backend with probability
 * 3·3^-30, so a sticky look is affinity; with affinity, a look that meets two backends is a fault.
 */
export const LOOK_REQUESTS = 30;

/** One look at a Service from one client, at one address or several: a tally of LOOK_REQUESTS requests each. */
export type Look = () => Promise<Tally[]>;

/** The backend every request of the look met, or undefined (a request failed, or several backends answered). */
export function stickyBackend(tally: Tally): string | undefined {
  const backends = Object.keys(tally.answers);
  return tally.ok === tally.count && backends.length === 1 ? backends[0] : undefined;
}

/** Every request answered, by more than one backend. */
export function spread(tally: Tally): boolean {
  return tally.ok === tally.count && Object.keys(tally.answers).length > 1;
}

/** A tally in words for a failure message: `http://10.96.0.7:80/ 30/30 answered: {"hostnames-a":30}` (and the first error). */
export function describeLook(tally: Tally): string {
  const error = tally.sampleError ? ` (${tally.sampleError})` : '';
  return `${tally.target} ${tally.ok}/${tally.count} answered: ${JSON.stringify(tally.answers)}${error}`;
}

/** Looks until every tally of one look is sticky (or the Service sync budget is spent); the last look, to judge. */
export function waitUntilSticky(cluster: Cluster, what: string, look: Look): Promise<Tally[]> {
  return probeUntil(
    `${what} sticky`,
    cluster.settings.timeouts.serviceSync,
    look,
    (tallies) => tallies.every((t) => stickyBackend(t)),
    (tallies) => tallies.map(describeLook).join('; '),
  );
}

/** Looks until every tally of one look met several backends (or the budget is spent); the last look, to judge. */
export function waitUntilSpread(cluster: Cluster, what: string, look: Look): Promise<Tally[]> {
  return probeUntil(
    `${what} spread over several backends`,
    cluster.settings.timeouts.serviceSync,
    look,
    (tallies) => tallies.every(spread),
    (tallies) => tallies.map(describeLook).join('; '),
  );
}

/**
 * Changes a Service's spec.sessionAffinity in place (a merge patch, as `kubectl patch` would). The API
 * server drops sessionAffinityConfig for None and gives ClientIP its default timeout (10800 s) back.
 */
export async function setSessionAffinity(
  cluster: Cluster,
  service: { namespace: string; name: string },
  affinity: 'ClientIP' | 'None',
): Promise<k8s.V1Service> {
  return patchServiceSpec(cluster.kube, service, { sessionAffinity: affinity, sessionAffinityConfig: null });
}
