// Which address families a cluster serves (read from its nodes on a cluster you bring), and, where
// it serves no IPv6, the skip reason the IPv6 checks carry: on a local cluster it names the flag
// that makes one that does.
import { isIPv6 } from 'node:net';
import type { V1Node } from '@kubernetes/client-node';
import { internalIPs } from '../kube/nodes.js';
import { IP_FAMILY_CHOICES } from '../settings.js';
import type { Capabilities, ClusterHandle } from './provider.js';

type Families = Capabilities['ipFamilies'];

/**
 * The families a cluster serves, primary first, as its nodes show them: the pod ranges of the first
 * node that has them (spec.podCIDRs), else the nodes' InternalIPs; IPv4 when nothing says.
 */
export function ipFamiliesOfNodes(nodes: V1Node[]): Families {
  const familyOf = (address: string) => (isIPv6(address.split('/')[0]) ? 'IPv6' : 'IPv4');
  const cidrs = nodes.find((n) => n.spec?.podCIDRs?.length)?.spec?.podCIDRs;
  const seen = (cidrs ?? nodes.flatMap(internalIPs)).map(familyOf);
  const families = [...new Set(seen)];
  return families.length ? families : ['IPv4'];
}

export function ipv6SkipReason(cluster: Pick<ClusterHandle, 'provider' | 'capabilities'>): string | undefined {
  const families = cluster.capabilities.ipFamilies;
  if (families.includes('IPv6')) return undefined;
  const withIPv6 = IP_FAMILY_CHOICES.filter((choice) => choice !== 'ipv4').map((choice) => `--ip-family ${choice}`);
  const how = cluster.provider === 'local' ? ` (${withIPv6.join(' or ')} makes a local cluster that serves IPv6)` : '';
  return `this cluster serves ${families.join(' and ')} only${how}`;
}
