// The families the ledger sorts upstream's tests into, and the issue each belongs to: a family is
// one spec file and one section to be (its own next step and verdict), as STYLE's "many checks, few
// files" asks. Part 1 is the data path under change (issue 30), part 2 the Service object, DNS, the
// APIs and dual-stack; LoadBalancer has its own issue.

export interface Family {
  title: string;
  issue: 'issue 30 part 1' | 'issue 30 part 2' | 'LoadBalancer issue';
}

export const FAMILIES = {
  'data-path': { title: 'The data path as made: ClusterIP, NodePort, externalIPs, hairpin', issue: 'issue 30 part 1' },
  'not-ready-terminating': { title: 'Endpoints that are not Ready or are terminating', issue: 'issue 30 part 1' },
  'no-endpoints': { title: 'No endpoints: refused, not a timeout', issue: 'issue 30 part 1' },
  'internal-traffic-policy': { title: 'internalTrafficPolicy: Local', issue: 'issue 30 part 1' },
  'external-traffic-policy': {
    title: 'externalTrafficPolicy: Local and source IP from outside',
    issue: 'issue 30 part 1',
  },
  'source-ip': { title: 'Source IP: a pod seen with its own address', issue: 'issue 30 part 1' },
  'proxy-opt-out': { title: "kube-proxy's opt-out labels", issue: 'issue 30 part 1' },
  'changing-backends': { title: 'Backends that change', issue: 'issue 30 part 1' },
  'health-check-nodeport': { title: 'Health-check NodePort', issue: 'issue 30 part 1' },
  'udp-conntrack': { title: 'UDP, conntrack and large packets', issue: 'issue 30 part 1' },
  'session-affinity': { title: 'Session affinity', issue: 'issue 30 part 1' },
  'traffic-distribution': { title: 'Traffic distribution and topology', issue: 'issue 30 part 1' },
  recovery: { title: 'Recovery (disruptive)', issue: 'issue 30 part 1' },
  'service-object': { title: 'The Service object: types, ports, lifecycle', issue: 'issue 30 part 2' },
  dns: { title: 'DNS', issue: 'issue 30 part 2' },
  api: { title: 'APIs: Endpoints, EndpointSlices, ServiceCIDRs, the proxy subresource', issue: 'issue 30 part 2' },
  'dual-stack': { title: 'Dual-stack', issue: 'issue 30 part 2' },
  loadbalancer: { title: 'LoadBalancer', issue: 'LoadBalancer issue' },
} satisfies Record<string, Family>;

export type FamilyId = keyof typeof FAMILIES;

export const FAMILY_IDS = Object.keys(FAMILIES) as FamilyId[];

/**
 * The families whose upstream tests `npm run conformance -- --families` runs on a local cluster
 * (issue 30: the local cluster must pass upstream's tests of the data path under change too); each
 * of their ledger entries records the outcome per kube-proxy mode (`localCluster`).
 */
export const LOCAL_RUN_FAMILIES: FamilyId[] = [
  'not-ready-terminating',
  'no-endpoints',
  'internal-traffic-policy',
  'source-ip',
  'proxy-opt-out',
  'changing-backends',
  'health-check-nodeport',
  'udp-conntrack',
  'session-affinity',
  'traffic-distribution',
  'recovery',
];
