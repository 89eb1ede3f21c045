// Pods in their node's network namespace (hostNetwork: true): a client that sends from the node's
// own address, as node processes do, and a backend that answers on the node's address with the
// node's name (agnhost netexec's /hostname: a hostNetwork pod shares its node's hostname). Pod
// Security "restricted" and "baseline" forbid hostNetwork, so they live in a namespace of the run
// that enforces "privileged"; their containers still run as restricted ones (uid 65534, no
// capabilities), on ports above 1024.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { namespaceName } from '../cluster/cluster.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from '../cluster/run-id.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { waitFor } from '../kube/wait.js';
import { timePhase } from '../host/phases.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { ClientPod } from './client-pod.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

/** The hostNetwork backend's port on its node: uncommon, so no node daemon holds it (upstream's choice too). */
export const HOST_BACKEND_PORT = 10180;

/** A namespace of the run (deleted with it) whose Pod Security admits hostNetwork pods. */
export async function hostNetworkNamespace(cluster: Cluster, prefix: string): Promise<string> {
  const name = namespaceName(prefix, cluster.runId);
  await cluster.kube.core.createNamespace({
    body: {
      metadata: {
        name,
        labels: { [RUN_ID_LABEL]: cluster.runId, 'pod-security.kubernetes.io/enforce': 'privileged' },
        annotations: { [CREATED_AT_ANNOTATION]: new Date().toISOString() },
      },
    },
  });
  return name;
}

function hostNetworkPod(
  cluster: Cluster,
  namespace: string,
  name: string,
  node: string,
  container: k8s.V1Container,
  labels: Record<string, string>,
): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: {
      nodeName: node,
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      securityContext: RESTRICTED_POD,
      containers: [{ imagePullPolicy: 'IfNotPresent', securityContext: RESTRICTED_CONTAINER, ...container }],
    },
  };
}

/** A client pod (svcprobe) in `node`'s network namespace, Ready. */
export async function startHostNetworkClient(
  cluster: Cluster,
  namespace: string,
  name: string,
  node: string,
): Promise<ClientPod> {
  const labels = { role: 'client' };
  await cluster.kube.apply(
    hostNetworkPod(cluster, namespace, name, node, { name: 'client', image: cluster.settings.images.client }, labels),
  );
  const ready = await timePhase('pod starts', `${namespace}/${name}`, () =>
    waitFor(
      `hostNetwork client pod ${namespace}/${name} running on ${node}`,
      cluster.settings.timeouts.podsReady,
      async () => {
        const p = await cluster.kube.core.readNamespacedPod({ namespace, name });
        return { done: isPodReady(p) && !!p.status?.podIP, seen: describePod(p), value: p };
      },
    ),
  );
  return new ClientPod(cluster, namespace, name, node, ready.status!.podIP!);
}

export interface HostNetworkBackend {
  pod: BackendPod;
  service: k8s.V1Service;
  clusterIP: string;
  port: number;
}

/**
 * A netexec pod on `node`'s network (GET /hostname answers the node's name) and a Service `name`
 * port 80 → HOST_BACKEND_PORT in front of it, `tweak`ed; waited for until the pod is Ready and
 * listed in the Service's EndpointSlices (not for kube-proxy's rules: the caller knows when it may send).
 */
export async function deployHostNetworkBackend(
  cluster: Cluster,
  namespace: string,
  name: string,
  node: string,
  tweak: (s: k8s.V1Service) => void = () => {},
): Promise<HostNetworkBackend> {
  const { pods, ...rest } = await deployHostNetworkBackends(cluster, namespace, name, { nodes: [node], tweak });
  return { pod: pods[0], ...rest };
}

export interface HostNetworkBackendsOptions {
  /** A backend on each of these nodes, pods `name`-1, `name`-2, … */
  nodes: string[];
  /** The port netexec holds on each node (HOST_BACKEND_PORT by default): specs that may run at once need their own. */
  port?: number;
  /** netexec answers UDP on its port too, and the Service gets a second port, 80/UDP named `udp`. */
  udp?: boolean;
  tweak?: (s: k8s.V1Service) => void;
}

export interface HostNetworkBackends {
  /** Sorted by name; each answers /hostname with its node's name. */
  pods: BackendPod[];
  service: k8s.V1Service;
  clusterIP: string;
  port: number;
}

/** deployHostNetworkBackend with a backend on each of several nodes, and UDP where asked. */
export async function deployHostNetworkBackends(
  cluster: Cluster,
  namespace: string,
  name: string,
  options: HostNetworkBackendsOptions,
): Promise<HostNetworkBackends> {
  const labels = { app: name };
  const port = options.port ?? HOST_BACKEND_PORT;
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: {
      selector: labels,
      ports: [
        { name: 'default', port: 80, targetPort: port, protocol: 'TCP' },
        ...(options.udp ? [{ name: 'udp', port: 80, targetPort: port, protocol: 'UDP' }] : []),
      ],
    },
  };
  options.tweak?.(service);
  const patches = workloadPatches(cluster.settings.run.workloadPatchFile);
  const [applied] = (await cluster.kube.apply(patched(service, patches))) as [k8s.V1Service];
  const container: k8s.V1Container = {
    name: 'netexec',
    image: cluster.settings.images.agnhost,
    // The UDP server listens on the node's own addresses, as upstream's hostNetwork endpoints do: bound to the
    // wildcard it answers from the address its route to the client picks (a pod on its node: the CNI bridge's),
    // which is not the address the Service's DNAT sent the datagram to, so conntrack cannot undo the DNAT and the
    // pod drops the reply. Bound, it answers from the address the datagram came to.
    args: [
      'netexec',
      `--http-port=${port}`,
      `--udp-port=${options.udp ? port : -1}`,
      ...(options.udp ? ['--udp-listen-addresses=$(HOST_IP),$(POD_IPS)'] : []),
    ],
    env: [
      { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
    ],
    ports: [
      { name: 'serve', containerPort: port, protocol: 'TCP' },
      ...(options.udp ? [{ name: 'serve-udp', containerPort: port, protocol: 'UDP' }] : []),
    ],
    readinessProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 2 },
  };
  for (const [i, node] of options.nodes.entries())
    await cluster.kube.apply(
      patched(hostNetworkPod(cluster, namespace, `${name}-${i + 1}`, node, container, labels), patches),
    );
  const pods = await waitForReadyBackends(cluster, namespace, labels, options.nodes.length, name);
  return { pods, service: applied, clusterIP: applied.spec!.clusterIP!, port: applied.spec!.ports![0].port };
}
