// Waits on what one client gets from a URL, for changes whose only sign is in the data path:
// a new Service's first answer on a node whose rules cannot be compared with all its endpoints
// (internalTrafficPolicy: Local), or an address going silent after its Service went away. Both
// return the last tally for the spec to judge, so running out of time reads as the spec's own failure.
import type { Cluster } from '../cluster/cluster.js';
import { probeUntil } from '../kube/probe-until.js';
import type { ClientPod, Tally } from './client-pod.js';

/** Tries per look: all in flight at once, so a silent address costs one probe timeout per look. */
const TRIES = 3;

/** Asks `url` from the client until something answers (or the Service sync budget ends); the last tally. */
export function waitUntilAnswered(cluster: Cluster, client: ClientPod, url: string): Promise<Tally> {
  return look(cluster, client, url, `${url} answering pod ${client.name} on ${client.node}`, (t) => t.ok > 0);
}

/** Asks `url` from the client until nothing answers (or the Service sync budget ends); the last tally. */
export function waitUntilSilent(cluster: Cluster, client: ClientPod, url: string): Promise<Tally> {
  return look(cluster, client, url, `${url} silent from pod ${client.name} on ${client.node}`, (t) => t.ok === 0);
}

function look(cluster: Cluster, client: ClientPod, url: string, what: string, done: (t: Tally) => boolean) {
  return probeUntil(
    what,
    cluster.settings.timeouts.serviceSync,
    () => client.http(url, { count: TRIES, concurrency: TRIES }),
    done,
    (t) => `${t.ok}/${TRIES} answered ${JSON.stringify(t.answers)}`,
  );
}
