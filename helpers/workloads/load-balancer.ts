// LoadBalancer Services for the LoadBalancer section: the wait for the implementation's ingress
// address (none within the budget is a skip reason, not a failure: the cluster may have no
// implementation), the implementation's own account of a Service (its events), changes made in
// place, and whether an address lies in the provider's pool.
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { patchServiceSpec } from '../kube/services.js';
import { probeUntil } from '../kube/probe-until.js';
import { parseAddressRange, rangeContains } from '../parse/cidr.js';

export interface ServiceRef {
  namespace: string;
  name: string;
}

/** The Service's first ingress address (IP, else hostname), or undefined. */
export function ingressOf(service: k8s.V1Service): string | undefined {
  const ingress = service.status?.loadBalancer?.ingress?.[0];
  return ingress?.ip ?? ingress?.hostname;
}

/**
 * Waits for the Service's ingress address (the LoadBalancer budget by default) and returns it, or
 * undefined with what the implementation said about it (its events) when none came.
 */
export async function waitForIngress(
  cluster: Cluster,
  ref: ServiceRef,
  budgetMs = cluster.settings.timeouts.loadBalancer,
): Promise<{ ip?: string; service: k8s.V1Service; seen: string }> {
  const service = await probeUntil(
    `Service ${ref.namespace}/${ref.name} given an ingress address`,
    budgetMs,
    () => cluster.kube.core.readNamespacedService(ref),
    (s) => !!ingressOf(s),
    (s) => JSON.stringify(s.status?.loadBalancer ?? {}),
  );
  const ip = ingressOf(service);
  return { ip, service, seen: ip ? `ingress ${ip}` : await serviceEvents(cluster, ref) };
}

/** Watches the Service for `forMs` and returns the ingress it got meanwhile, if any (a class nobody serves gets none). */
export async function ingressWithin(cluster: Cluster, ref: ServiceRef, forMs: number): Promise<string | undefined> {
  return (await waitForIngress(cluster, ref, forMs)).ip;
}

/** Waits until the Service has no ingress address any more (changed to another type, or its class changed). */
export async function waitForNoIngress(cluster: Cluster, ref: ServiceRef): Promise<k8s.V1Service> {
  return probeUntil(
    `Service ${ref.namespace}/${ref.name} without an ingress address`,
    cluster.settings.timeouts.loadBalancer,
    () => cluster.kube.core.readNamespacedService(ref),
    (s) => !ingressOf(s),
    (s) => JSON.stringify(s.status?.loadBalancer ?? {}),
  );
}

/** The Service's events, oldest first, as "reason: message (component)"; what an implementation says about it. */
export async function serviceEvents(cluster: Cluster, ref: ServiceRef): Promise<string> {
  const events = await cluster.kube.core.listNamespacedEvent({
    namespace: ref.namespace,
    fieldSelector: `involvedObject.kind=Service,involvedObject.name=${ref.name}`,
  });
  const lines = events.items.map((e) => `${e.reason}: ${e.message} (${e.source?.component ?? e.reportingComponent})`);
  return lines.length ? `events: ${lines.join('; ')}` : 'no events for it (no implementation watched it)';
}

/** Changes a Service in place with a merge patch (`kubectl patch --type merge`); null removes a field. */
export function patchService(cluster: Cluster, ref: ServiceRef, spec: object): Promise<k8s.V1Service> {
  return patchServiceSpec(cluster.kube, ref, spec);
}

/** Writes the Service's status as a load balancer implementation would (for a class that no implementation serves). */
export async function writeIngressStatus(
  cluster: Cluster,
  ref: ServiceRef,
  ingress: k8s.V1LoadBalancerIngress[],
): Promise<k8s.V1Service> {
  return cluster.kube.core.patchNamespacedServiceStatus(
    { ...ref, body: { status: { loadBalancer: { ingress } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Whether `ip` is in `cidr`. */
export function inRange(ip: string, cidr: string): boolean {
  const [outer, inner] = [parseAddressRange(cidr), parseAddressRange(`${ip}/${ip.includes(':') ? 128 : 32}`)];
  return !!outer && !!inner && rangeContains(outer, inner);
}
