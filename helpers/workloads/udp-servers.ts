// The servers a conntrack check changes under a running UDP flow: a UDP Service made before any of
// its pods (so a flow can start while it has none), and agnhost netexec pods for it, pinned to a
// node, answering their pod name over UDP; started, held unready until told (a readiness gate),
// and deleted, each step awaited in the Service's EndpointSlices.
import { PatchStrategy, setHeaderOptions, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { endpointSliceAddresses, type EndpointAddress } from '../kube/services.js';
import { waitFor } from '../kube/wait.js';
import type { BackendPod } from './backends.js';
import { HOSTNAMES_PORT } from './hostnames.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';
import { serverPodObject, waitForServerPod } from './server-pods.js';

/** The readiness gate a gated server waits on: the pod turns Ready only once markReady sets it. */
export const READY_GATE = 'svc-conformance.io/ready';

export interface UdpService {
  name: string;
  clusterIP: string;
  port: number;
  /** Allocated when the Service is a NodePort. */
  nodePort?: number;
  service: V1Service;
}

/** Service `name` port 80/UDP → 9376 selecting app=name, `tweak`ed; no pod selected yet. */
export async function createUdpService(
  cluster: Cluster,
  namespace: string,
  name: string,
  tweak: (s: V1Service) => void = () => {},
): Promise<UdpService> {
  const labels = { app: name };
  const service: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: { selector: labels, ports: [{ name: 'udp', port: 80, targetPort: HOSTNAMES_PORT, protocol: 'UDP' }] },
  };
  tweak(service);
  const [applied] = (await cluster.kube.apply(
    patched(service, workloadPatches(cluster.settings.run.workloadPatchFile)),
  )) as [V1Service];
  const port = applied.spec!.ports![0];
  return { name, clusterIP: applied.spec!.clusterIP!, port: port.port, nodePort: port.nodePort, service: applied };
}

export interface UdpServerOptions {
  node: string;
  /** Held unready by READY_GATE until markReady: listed in the EndpointSlices as not ready. */
  gated?: boolean;
  /** One netexec container per port, each answering UDP and HTTP on it (default: one, on 9376). */
  ports?: number[];
}

/** A netexec pod selected by Service `service`, running and listed in its EndpointSlices (ready unless gated). */
export async function startUdpServer(
  cluster: Cluster,
  namespace: string,
  service: string,
  name: string,
  options: UdpServerOptions,
): Promise<BackendPod> {
  const pod = serverPodObject(cluster, namespace, {
    name,
    node: options.node,
    labels: { app: service },
    readiness: 'until-sigterm',
  });
  const spec = pod.spec!;
  const [netexec] = spec.containers;
  if (options.ports) spec.containers = options.ports.map((port) => netexecOn(netexec, port));
  else netexec.ports!.push({ name: 'serve-udp', containerPort: HOSTNAMES_PORT, protocol: 'UDP' });
  if (options.gated) spec.readinessGates = [{ conditionType: READY_GATE }];
  await cluster.kube.apply(pod);
  const server = await waitForServerPod(cluster, namespace, name, !options.gated);
  await waitForEndpoint(cluster, namespace, service, `${name} listed ${options.gated ? 'not ready' : 'ready'}`, (e) =>
    e.some((a) => a.podName === name && a.ready === !options.gated),
  );
  return server;
}

/** Sets the pod's readiness gate and waits until the Service lists it ready. */
export function markReady(cluster: Cluster, namespace: string, service: string, name: string): Promise<void> {
  return setReadyGate(cluster, namespace, service, name, true);
}

/** Turns the pod's readiness gate (READY_GATE) to `ready` and waits until the Service lists it so. */
export async function setReadyGate(
  cluster: Cluster,
  namespace: string,
  service: string,
  name: string,
  ready: boolean,
): Promise<void> {
  const body = { status: { conditions: [{ type: READY_GATE, status: ready ? 'True' : 'False' }] } };
  await cluster.kube.core.patchNamespacedPodStatus(
    { namespace, name, body },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  await waitForEndpoint(cluster, namespace, service, `${name} listed ${ready ? 'ready' : 'not ready'}`, (e) =>
    e.some((a) => a.podName === name && a.ready === ready),
  );
}

/** Deletes the pod at once and waits until the Service's EndpointSlices no longer list it. */
export async function deleteServer(cluster: Cluster, namespace: string, service: string, pod: BackendPod) {
  await cluster.kube.core.deleteNamespacedPod({ namespace, name: pod.name, gracePeriodSeconds: 0 });
  await waitForEndpoint(cluster, namespace, service, `${pod.name} (${pod.ip}) gone`, (e) =>
    e.every((a) => a.ip !== pod.ip),
  );
}

/** Waits until the Service's EndpointSlices satisfy `holds`; `what` names the state in the timeout. */
export async function waitForEndpoint(
  cluster: Cluster,
  namespace: string,
  service: string,
  what: string,
  holds: (endpoints: EndpointAddress[]) => boolean,
): Promise<void> {
  await waitFor(
    `${what} in the EndpointSlices of ${namespace}/${service}`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const endpoints = await endpointSliceAddresses(cluster.kube, namespace, service);
      const seen = endpoints.map((e) => `${e.podName ?? e.ip}:${e.port}${e.ready ? '' : ' (not ready)'}`);
      return { done: holds(endpoints), seen: seen.join(', ') || 'none' };
    },
  );
}

function netexecOn(template: NonNullable<V1Pod['spec']>['containers'][number], port: number) {
  return {
    ...template,
    name: `serve-${port}`,
    args: ['netexec', `--http-port=${port}`, `--udp-port=${port}`],
    ports: [{ name: `udp-${port}`, containerPort: port, protocol: 'UDP' }],
    readinessProbe: { httpGet: { path: '/readyz', port }, periodSeconds: 1, failureThreshold: 1 },
  };
}
