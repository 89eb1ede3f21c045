// The objects of a scale run: N selectorless Services, each with one EndpointSlice written
// for M addresses of a small pool of real backend pods, so N·M endpoints need only M pods.
// Every object carries the run id; each slice is owned by its Service, so deleting the
// Service takes the slice with it. The slice carries the trigger-time annotation the
// EndpointSlice controller would write: kube-proxy's network-programming histogram counts
// from it.
import type * as k8s from '@kubernetes/client-node';
import { RUN_ID_LABEL } from '../cluster/run-id.js';
import type { BackendPod } from '../workloads/backends.js';
import { HOSTNAMES_PORT, SERVICE_PORT } from '../workloads/hostnames.js';

/** The port name every scale Service uses; kube-proxy keys its rules "namespace/name:http". */
export const SCALE_PORT_NAME = 'http';

export const serviceName = (i: number) => `scale-${String(i).padStart(5, '0')}`;

/** "namespace/name:http": how kube-proxy's rules name the Service's port (proxy-index.ts keys). */
export const portKey = (namespace: string, name: string) => `${namespace}/${name}:${SCALE_PORT_NAME}`;

export function scaleService(namespace: string, name: string, runId: string): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { [RUN_ID_LABEL]: runId } },
    spec: { ports: [{ name: SCALE_PORT_NAME, port: SERVICE_PORT, protocol: 'TCP', targetPort: HOSTNAMES_PORT }] },
  };
}

/** One slice for a Service: `backends` as its ready endpoints, owned by the Service (garbage-collected with it). */
export function scaleSlice(
  service: k8s.V1Service,
  backends: BackendPod[],
  runId: string,
  triggerTime: Date,
): k8s.V1EndpointSlice {
  const name = service.metadata!.name!;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-1`,
      namespace: service.metadata!.namespace,
      labels: {
        [RUN_ID_LABEL]: runId,
        'kubernetes.io/service-name': name,
        'endpointslice.kubernetes.io/managed-by': 'scale.svc-conformance.io',
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': triggerTime.toISOString() },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name, uid: service.metadata!.uid!, blockOwnerDeletion: false },
      ],
    },
    addressType: 'IPv4',
    ports: [{ name: SCALE_PORT_NAME, port: HOSTNAMES_PORT, protocol: 'TCP' }],
    endpoints: backends.map((b) => ({
      addresses: [b.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: b.node,
      targetRef: { kind: 'Pod', name: b.name, namespace: service.metadata!.namespace, uid: b.uid },
    })),
  };
}

/** The M backends of Service i: a rotation through the pool, so every pod serves as many Services. */
export function backendsFor(i: number, pool: BackendPod[], m: number): BackendPod[] {
  return Array.from({ length: m }, (_, k) => pool[(i + k) % pool.length]);
}
