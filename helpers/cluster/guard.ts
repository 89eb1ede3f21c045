// The network guard, as the specs see it: the addresses nothing of ours owns, and the
// counters that show where a packet for them died. Only clusters whose network this
// project built (the local provider) have the counters.
import { clusterLayout, GUARD_TARGETS } from './local/layout.js';
import { readGuardCounters } from './local/network.js';
import type { ClusterHandle } from './provider.js';

export { GUARD_TARGETS };

export interface GuardCounters {
  /** Packets the cluster's fabric refused to route anywhere (it then answers ICMP unreachable). */
  fabricRejected: number;
  /** Packets of the cluster's addresses stopped at this machine's uplink: must stay 0. */
  uplinkStopped: number;
}

export async function readGuard(cluster: ClusterHandle): Promise<GuardCounters | undefined> {
  if (cluster.provider !== 'local') return undefined;
  return readGuardCounters(clusterLayout(cluster.name, cluster.nodes.length));
}

/** An address in the Service range that no Service owns: the range's last usable address. */
export function unownedServiceIP(serviceCIDR: string): string {
  const [base, bits] = serviceCIDR.split('/');
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + 2 ** (32 - Number(bits)) - 2;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
