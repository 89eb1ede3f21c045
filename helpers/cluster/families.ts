// Which address families a cluster serves (read from its nodes on a cluster you bring), and, where
// it serves no IPv6, the skip reason the IPv6 checks carry: on a local cluster it names the flag
// that makes one that does.
import type { V1Node } from '@kubernetes/client-node';
import { familyOf } from '../address.js';
import { internalIPs } from '../kube/nodes.js';
import { IP_FAMILY_CHOICES } from '../settings.js';
import { FAMILIES_OF } from './local/layout.js';
import type { Capabilities, ClusterHandle } from './provider.js';

type Families = Capabilities['ipFamilies'];
export type IpFamily = Families[number];

/**
 * The families a cluster serves, primary first, as its nodes show them: the pod ranges of the first
 * node that has them (spec.podCIDRs), else the nodes' InternalIPs; IPv4 when nothing says.
 */
export function ipFamiliesOfNodes(nodes: V1Node[]): Families {
  const cidrs = nodes.find((n) => n.spec?.podCIDRs?.length)?.spec?.podCIDRs;
  const seen = (cidrs ?? nodes.flatMap(internalIPs)).map(familyOf);
  const families = [...new Set(seen)];
  return families.length ? families : ['IPv4'];
}

export function ipv6SkipReason(cluster: Pick<ClusterHandle, 'provider' | 'capabilities'>): string | undefined {
  return familiesSkipReason(cluster, ['IPv6']);
}

/** Where the cluster serves only one family: the reason the checks of a second family (dual-stack) carry. */
export function dualStackSkipReason(cluster: Pick<ClusterHandle, 'provider' | 'capabilities'>): string | undefined {
  return familiesSkipReason(cluster, ['IPv4', 'IPv6']);
}

/** The family a dual-stack cluster serves after its primary one; undefined on a single-stack cluster. */
export function secondaryFamily(cluster: Pick<ClusterHandle, 'capabilities'>): IpFamily | undefined {
  return cluster.capabilities.ipFamilies[1];
}

/** Why checks that need every family of `wanted` skip here, or undefined where the cluster serves them all. */
export function familiesSkipReason(
  cluster: Pick<ClusterHandle, 'provider' | 'capabilities'>,
  wanted: IpFamily[],
): string | undefined {
  const families = cluster.capabilities.ipFamilies;
  if (wanted.every((family) => families.includes(family))) return undefined;
  const choices = IP_FAMILY_CHOICES.filter((c) => wanted.every((f) => FAMILIES_OF[c].includes(f)));
  const serves = wanted.length > 1 ? 'both families' : wanted[0];
  const how =
    cluster.provider === 'local'
      ? ` (${choices.map((c) => `--ip-family ${c}`).join(' or ')} makes a local cluster that serves ${serves})`
      : '';
  return `this cluster serves ${families.join(' and ')} only${how}`;
}
