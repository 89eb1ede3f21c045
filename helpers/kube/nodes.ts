// What the API says about a node that providers and specs ask: is it Ready, its InternalIP(s),
// and the addresses it may use as the source of traffic it forwards (its InternalIP, and the
// first address of its pod range: the bridge address a CNI gives the node, which masquerade
// picks when the backend sits on that node).
import { familyOf } from '../address.js';
import { addressInRange } from '../parse/cidr.js';
import type { V1Node } from '@kubernetes/client-node';
import type { Kube } from './client.js';
import { waitFor } from './wait.js';

/** The kubelet reports the node fit for pods: its Ready condition is True. */
export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Every InternalIP of the node: one per IP family on a dual-stack cluster. */
export function internalIPs(node: V1Node): string[] {
  return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
}

/** Per node name, its InternalIP of one family (a dual-stack node has one of each); nodes without one are left out. */
export async function internalIPsOfFamily(kube: Kube, family: 'IPv4' | 'IPv6'): Promise<Map<string, string>> {
  const nodes = (await kube.core.listNode()).items;
  return new Map(
    nodes.flatMap((node) =>
      internalIPs(node)
        .filter((ip) => familyOf(ip) === family)
        .slice(0, 1)
        .map((ip) => [node.metadata!.name!, ip]),
    ),
  );
}

/** The address other nodes and the API server reach the node by (its first InternalIP). */
export function internalIP(node: V1Node): string | undefined {
  return internalIPs(node)[0];
}

/** "a=Ready, b=NotReady": what a wait for Ready nodes saw, for its timeout message. */
export function readiness(nodes: V1Node[]): string {
  const each = nodes.map((n) => `${n.metadata?.name}=${isNodeReady(n) ? 'Ready' : 'NotReady'}`);
  return each.join(', ') || 'no nodes registered';
}

/** A cluster is up only once all its nodes take pods; returns every node once `count` are Ready. */
export async function waitForReadyNodes(kube: Kube, count: number, what: string, budgetMs: number): Promise<V1Node[]> {
  return waitFor(what, budgetMs, async () => {
    const nodes = (await kube.core.listNode()).items;
    return { done: nodes.filter(isNodeReady).length === count, seen: readiness(nodes), value: nodes };
  });
}

/** Per node name, the source addresses its forwarded traffic may carry (its addresses, the CNI gateway, flannel's VTEP). */
export async function nodeAddresses(kube: Kube): Promise<Map<string, string[]>> {
  const nodes = await kube.core.listNode();
  return new Map(
    nodes.items.map((node) => {
      const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
      const gateways = podCIDRs.map(firstHost).filter((a): a is string => !!a);
      // flannel's VXLAN device holds its lease's network address (10.244.1.0/32): traffic SNATed towards
      // another node's pod leaves through it with that source.
      const vteps = node.metadata?.annotations?.['flannel.alpha.coreos.com/backend-type']
        ? podCIDRs.map((cidr) => hostInRange(cidr, 0)).filter((a): a is string => !!a)
        : [];
      return [node.metadata!.name!, [...internalIPs(node), ...gateways, ...vteps]];
    }),
  );
}

/** "10.244.1.0/24" → "10.244.1.1", "fd00:10:244:1::/64" → "fd00:10:244:1::1": the bridge CNI's gateway. */
export function firstHost(cidr: string): string | undefined {
  return hostInRange(cidr, 1);
}

/** hostInRange("10.251.0.0/24", 10) → "10.251.0.10" (IPv6 alike); undefined past the range's end. */
export function hostInRange(cidr: string, offset: number): string | undefined {
  return addressInRange(cidr, offset);
}
