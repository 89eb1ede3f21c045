// Waiting for one pod to answer through a Service, from a client pod: where a check must first
// see its Service working before it changes what is behind it.
import type { Cluster } from '../cluster/cluster.js';
import { probeUntil } from '../kube/probe-until.js';
import type { ClientPod, Tally } from './client-pod.js';

/** GETs `url` from the client until `pod` answers (or the Service sync budget is spent); returns the last tally. */
export function answeredBy(cluster: Cluster, client: ClientPod, url: string, pod: string): Promise<Tally> {
  return probeUntil(
    `${url} answered by ${pod} from pod ${client.name}`,
    cluster.settings.timeouts.serviceSync,
    () => client.http(url),
    (tally) => (tally.answers[pod] ?? 0) > 0,
    (tally) => `${JSON.stringify(tally.answers)} ${tally.sampleError ?? ''}`.trim(),
  );
}
