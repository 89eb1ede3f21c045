// A Service's address families as the API server allocated them (spec.ipFamilyPolicy, ipFamilies,
// clusterIP and clusterIPs) and as the EndpointSlice controller follows them (one slice per family),
// judged against what was asked: each difference in words, so a check's message names it.
import type * as k8s from '@kubernetes/client-node';
import { familyOf } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import type { IpFamily } from '../cluster/families.js';
import { probeUntil } from '../kube/probe-until.js';
import { endpointSlicesOf } from '../kube/services.js';

export interface FamiliesAsked {
  policy: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  /** In the order the Service must keep them: its primary family first. */
  families: IpFamily[];
}

/** Where the Service's families differ from `want`: its policy, its families in order, a ClusterIP of each in the same order. */
export function familyProblems(service: k8s.V1Service, want: FamiliesAsked): string[] {
  const spec = service.spec ?? {};
  const families = spec.ipFamilies ?? [];
  const clusterIPs = spec.clusterIPs ?? [];
  const problems: string[] = [];
  if (spec.ipFamilyPolicy !== want.policy)
    problems.push(`ipFamilyPolicy ${spec.ipFamilyPolicy} (asked ${want.policy})`);
  if (families.join() !== want.families.join())
    problems.push(`ipFamilies [${families.join(', ')}] (asked [${want.families.join(', ')}])`);
  const ipFamilies = clusterIPs.map(familyOf);
  if (ipFamilies.join() !== families.join())
    problems.push(`clusterIPs [${clusterIPs.join(', ')}] are of [${ipFamilies.join(', ')}], not of ipFamilies`);
  if (spec.clusterIP !== clusterIPs[0]) problems.push(`clusterIP ${spec.clusterIP} is not clusterIPs[0]`);
  return problems;
}

/** Per addressType of the Service's EndpointSlices, the pods they list as ready, sorted: `{ IPv4: [a, b], IPv6: [a, b] }`. */
export function readyPodsByFamily(slices: k8s.V1EndpointSlice[]): Record<string, string[]> {
  const byFamily: Record<string, string[]> = {};
  for (const slice of slices) {
    const pods = (slice.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name ?? '?');
    byFamily[slice.addressType] = [...(byFamily[slice.addressType] ?? []), ...pods].sort();
  }
  return byFamily;
}

/**
 * Reads the Service's EndpointSlices until one of each family of `families` lists every pod of `pods`
 * as ready (or the pod budget is spent); returns the last reading, for the check to judge (a slice of a
 * family not asked shows in it as a key of its own).
 */
export function waitForFamilySlices(
  cluster: Cluster,
  service: { namespace: string; name: string },
  families: IpFamily[],
  pods: string[],
): Promise<Record<string, string[]>> {
  const { namespace, name } = service;
  return probeUntil(
    `EndpointSlices of ${namespace}/${name} of ${families.join(' and ')} listing ${pods.join(', ')}`,
    cluster.settings.timeouts.podsReady,
    async () => readyPodsByFamily(await endpointSlicesOf(cluster.kube, namespace, name)),
    (byFamily) => families.every((family) => pods.every((pod) => byFamily[family]?.includes(pod))),
    describeSlices,
  );
}

/** "IPv4: a, b; IPv6: none" */
export function describeSlices(byFamily: Record<string, string[]>): string {
  const each = Object.entries(byFamily).map(([family, pods]) => `${family}: ${pods.join(', ') || 'none ready'}`);
  return each.join('; ') || 'no EndpointSlices';
}
