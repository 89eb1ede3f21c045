// Server pods shaped by the port they serve, for the checks of a Service's ports: one that serves
// HTTP on a single named container port (a Service's named targetPort finds it, and no other), and
// one whose server is a restartable init container (a sidecar) beside a main container that only
// pauses. Both are the server-pods.ts netexec pod, pinned to a node and started with startPod.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import type { BackendPod } from './backends.js';
import { HOSTNAMES_PORT } from './hostnames.js';
import { serverPodObject, waitForServerPod } from './server-pods.js';

export interface PortServerOptions {
  name: string;
  node: string;
  labels: Record<string, string>;
  /** The container port's name, the one a Service's targetPort names. */
  portName: string;
  /** The port it serves HTTP on (the hostnames port by default). */
  port?: number;
}

/** netexec serving HTTP on `port` alone, declared as container port `portName`, Ready once it listens. */
export function namedPortServer(cluster: Cluster, namespace: string, options: PortServerOptions): k8s.V1Pod {
  const port = options.port ?? HOSTNAMES_PORT;
  const pod = serverPodObject(cluster, namespace, { ...options, readiness: 'listening' });
  const [server] = pod.spec!.containers;
  server.args = ['netexec', `--http-port=${port}`, '--udp-port=-1'];
  server.ports = [{ name: options.portName, containerPort: port, protocol: 'TCP' }];
  server.readinessProbe = { ...server.readinessProbe, tcpSocket: { port } };
  return pod;
}

/**
 * The same server as a restartable init container (restartPolicy Always: a sidecar), whose port is
 * the pod's only one; the main container pauses. The pod turns Ready once the sidecar listens.
 */
export function sidecarServer(cluster: Cluster, namespace: string, options: PortServerOptions): k8s.V1Pod {
  const pod = namedPortServer(cluster, namespace, options);
  const spec = pod.spec!;
  const [server] = spec.containers;
  spec.initContainers = [{ ...server, name: 'sidecar', restartPolicy: 'Always' }];
  spec.containers = [
    {
      name: 'main',
      image: server.image,
      imagePullPolicy: server.imagePullPolicy,
      securityContext: server.securityContext,
      args: ['pause'],
    },
  ];
  return pod;
}

/** Creates the pod and waits until it runs Ready with an address: a Service's backend. */
export async function startPod(cluster: Cluster, pod: k8s.V1Pod): Promise<BackendPod> {
  await cluster.kube.apply(pod);
  return waitForServerPod(cluster, pod.metadata!.namespace!, pod.metadata!.name!);
}
