// Waits for a Service to come back after a disruption (helpers/cluster/disruption.ts), and the
// budgets they take, derived from how often the components look for what went wrong.
import { waitFor, WaitTimeoutError } from '../kube/wait.js';
import type { ClientPod } from './client-pod.js';
import { describeDistribution, roundRobin, type RoundRobin } from './round-robin.js';

/** kube-proxy's default syncPeriod: its iptables canary monitor looks for a flush this often. */
export const KUBE_PROXY_SYNC_PERIOD_MS = 30_000;
/** kubelet's canary monitor looks for a flush of its own chains once a minute (fixed in kubelet). */
export const KUBELET_CANARY_PERIOD_MS = 60_000;
/** What a sync (or a restart's first one) may take on a loaded 2-core machine once it starts. */
const MARGIN_MS = 30_000;
/** From a flush to kube-proxy's rules answering again: one canary period, then its sync. */
export const RULES_BACK_MS = KUBE_PROXY_SYNC_PERIOD_MS + MARGIN_MS;
/** From a flush to kubelet's KUBE-IPTABLES-HINT back: one kubelet canary period, then its sync. */
export const HINT_BACK_MS = KUBELET_CANARY_PERIOD_MS + MARGIN_MS;

/**
 * Round-robins over the Service from the client until every expected backend has answered, or
 * the budget ends; the last round for the spec to judge, so a timeout reads as its own failure.
 */
export async function waitUntilEveryBackendAnswers(
  client: ClientPod,
  url: string,
  expected: string[],
  budgetMs: number,
): Promise<RoundRobin> {
  let last: RoundRobin | undefined;
  try {
    await waitFor(`every backend answering ${url} from pod ${client.name} on ${client.node}`, budgetMs, async () => {
      last = await roundRobin(client, url, expected);
      return { done: last.missing.length === 0 && last.unexpected.length === 0, seen: describeDistribution(last) };
    });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError) || !last) throw error;
  }
  return last!;
}
