// Reading a Service and what backs it, with errors that name the missing object:
// getService, the ready addresses of its Endpoints and EndpointSlices, and the pods its
// selector matches.
import * as k8s from '@kubernetes/client-node';
import { FIELD_MANAGER, isNotFound, type Kube } from './client.js';
import { hostPort } from '../address.js';
import { waitFor } from './wait.js';

export class MissingServiceError extends Error {
  constructor(namespace: string, name: string, others: string[]) {
    super(
      `Service ${namespace}/${name} does not exist${others.length ? ` (Services in ${namespace}: ${others.join(', ')})` : ` (namespace ${namespace} has no Services)`}`,
    );
    this.name = 'MissingServiceError';
  }
}

export async function getService(kube: Kube, namespace: string, name: string): Promise<k8s.V1Service> {
  try {
    return await kube.core.readNamespacedService({ namespace, name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const list = await kube.core.listNamespacedService({ namespace }).catch(() => undefined);
    throw new MissingServiceError(namespace, name, list?.items.map((s) => s.metadata!.name!) ?? []);
  }
}

/** One backend address as the API lists it: "10.244.1.3:9376", with the pod it points to. */
export interface EndpointAddress {
  address: string;
  ip: string;
  port: number;
  /** The Service port's name this address serves (EndpointSlices only; '' for an unnamed port). */
  portName?: string;
  ready: boolean;
  podName?: string;
  podUid?: string;
  node?: string;
  /** The zones and nodes the EndpointSlice controller meant it for (trafficDistribution, topology-mode Auto). */
  zoneHints?: string[];
  nodeHints?: string[];
}

/** What the v1 Endpoints object lists (ready and not-ready addresses). */
export async function endpointsOf(kube: Kube, namespace: string, name: string): Promise<EndpointAddress[]> {
  let endpoints: k8s.V1Endpoints;
  try {
    endpoints = await kube.core.readNamespacedEndpoints({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return (endpoints.subsets ?? []).flatMap((subset) =>
    (subset.ports ?? []).flatMap((port) => [
      ...(subset.addresses ?? []).map((a) => toAddress(a, port.port, true)),
      ...(subset.notReadyAddresses ?? []).map((a) => toAddress(a, port.port, false)),
    ]),
  );
}

function toAddress(a: k8s.V1EndpointAddress, port: number, ready: boolean): EndpointAddress {
  return {
    address: hostPort(a.ip, port),
    ip: a.ip,
    port,
    ready,
    podName: a.targetRef?.name,
    podUid: a.targetRef?.uid,
    node: a.nodeName,
  };
}

/** What the Service's EndpointSlices list. */
export async function endpointSliceAddresses(kube: Kube, namespace: string, name: string): Promise<EndpointAddress[]> {
  return sliceAddresses(await endpointSlicesOf(kube, namespace, name));
}

/** The Service's EndpointSlice objects (a slice may list no endpoint). */
export async function endpointSlicesOf(kube: Kube, namespace: string, name: string): Promise<k8s.V1EndpointSlice[]> {
  const slices = await kube.discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: `kubernetes.io/service-name=${name}`,
  });
  return slices.items;
}

/**
 * Waits until both endpoint controllers have written the Service's objects (its Endpoints, and at least
 * one EndpointSlice, empty for a selector that matches nothing): what they list is their answer, not a
 * read made before they saw the Service.
 */
export async function waitForEndpointObjects(kube: Kube, namespace: string, name: string, budgetMs: number) {
  await waitFor(`the Endpoints and EndpointSlices of ${namespace}/${name} written`, budgetMs, async () => {
    const [endpoints, slices] = await Promise.all([
      kube.core.readNamespacedEndpoints({ namespace, name }).then(
        () => true,
        (error: unknown) => {
          if (isNotFound(error)) return false;
          throw error;
        },
      ),
      endpointSlicesOf(kube, namespace, name),
    ]);
    return {
      done: endpoints && slices.length > 0,
      seen: `Endpoints ${endpoints ? 'written' : 'not yet'}, ${slices.length} EndpointSlices`,
    };
  });
}

/** Every address the slices list, one per port. */
export function sliceAddresses(slices: k8s.V1EndpointSlice[]): EndpointAddress[] {
  return slices.flatMap((slice) =>
    (slice.ports ?? []).flatMap((port) =>
      (slice.endpoints ?? []).flatMap((e) =>
        e.addresses.map((ip) => ({
          address: hostPort(ip, port.port!),
          ip,
          port: port.port!,
          portName: port.name ?? '',
          ready: e.conditions?.ready ?? false,
          podName: e.targetRef?.name,
          podUid: e.targetRef?.uid,
          node: e.nodeName,
          ...(e.hints?.forZones?.length ? { zoneHints: e.hints.forZones.map((z) => z.name) } : {}),
          ...(e.hints?.forNodes?.length ? { nodeHints: e.hints.forNodes.map((n) => n.name) } : {}),
        })),
      ),
    ),
  );
}

/** The pods a Service's selector matches, and every pod in the namespace for comparison. */
export async function podsSelectedBy(
  kube: Kube,
  service: k8s.V1Service,
): Promise<{ selected: k8s.V1Pod[]; all: k8s.V1Pod[] }> {
  const namespace = service.metadata!.namespace!;
  const all = (await kube.core.listNamespacedPod({ namespace })).items;
  const selector = service.spec?.selector ?? {};
  const keys = Object.entries(selector);
  const selected = keys.length === 0 ? [] : all.filter((p) => keys.every(([k, v]) => p.metadata?.labels?.[k] === v));
  return { selected, all };
}

export function formatSelector(selector: Record<string, string> | undefined): string {
  return (
    Object.entries(selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '(none)'
  );
}

/** Changes a Service in place with a merge patch (`kubectl patch --type merge`); null removes a field. */
export function patchServiceSpec(
  kube: Kube,
  ref: { namespace: string; name: string },
  spec: object,
): Promise<k8s.V1Service> {
  const patch = { apiVersion: 'v1', kind: 'Service', metadata: ref, spec } as unknown as k8s.V1Service;
  return kube.objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, k8s.PatchStrategy.MergePatch);
}
