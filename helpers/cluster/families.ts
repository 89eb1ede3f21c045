// Whether a cluster serves IPv6, and, where it does not, the skip reason the IPv6 checks carry:
// on a local cluster it names the flag that makes one that does.
import { IP_FAMILY_CHOICES } from '../settings.js';
import type { ClusterHandle } from './provider.js';

export function ipv6SkipReason(cluster: Pick<ClusterHandle, 'provider' | 'capabilities'>): string | undefined {
  const families = cluster.capabilities.ipFamilies;
  if (families.includes('IPv6')) return undefined;
  const withIPv6 = IP_FAMILY_CHOICES.filter((choice) => choice !== 'ipv4').map((choice) => `--ip-family ${choice}`);
  const how = cluster.provider === 'local' ? ` (${withIPv6.join(' or ')} makes a local cluster that serves IPv6)` : '';
  return `this cluster serves ${families.join(' and ')} only${how}`;
}
