// The out-of-window test of kubernetes#74839 (upstream's regression-issue-74839 image, as svcprobe
// subcommands): a backend that, once a client's handshake completes, sends that client TCP segments
// out of the connection's window from its pod address, then asks the client over the connection
// whether it is still there. Upstream's segment lies far behind the window, which kernels from 6.1
// on no longer call INVALID (they pass it NATed); a second one far ahead is INVALID on every kernel.
// Conntrack leaves an INVALID segment un-NATed: unless the node drops such packets (kube-proxy's rule)
// or tracks TCP liberally, the client answers it with a RST that kills the Service connection. The
// raw socket needs root with NET_RAW: the server lives in a namespace of the run that enforces Pod
// Security "privileged".
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { parseProbeOutput, type Tally } from '../parse/svcprobe.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import type { ClientPod } from './client-pod.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';

/** upstream's boom-server port. */
export const OUT_OF_WINDOW_PORT = 9000;

export interface OutOfWindowServer {
  pod: BackendPod;
  service: k8s.V1Service;
  /** ClusterIP:port of the Service in front of it. */
  address: string;
}

/** The server pod on `node` and Service `name` (TCP 9000) in front of it, Ready and listed in its EndpointSlices. */
export async function deployOutOfWindowServer(
  cluster: Cluster,
  namespace: string,
  name: string,
  node: string,
): Promise<OutOfWindowServer> {
  const labels = { app: name };
  const patches = workloadPatches(cluster.settings.run.workloadPatchFile);
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: { selector: labels, ports: [{ name: 'tcp', port: OUT_OF_WINDOW_PORT, protocol: 'TCP' }] },
  };
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'server',
          image: cluster.settings.images.client,
          imagePullPolicy: 'IfNotPresent',
          command: ['/svcprobe', 'out-of-window-server', `--port=${OUT_OF_WINDOW_PORT}`, '--ips=$(POD_IPS)'],
          env: [{ name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } }],
          // A raw socket needs NET_RAW, and only root holds an added capability (no ambient ones in a pod).
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'], add: ['NET_RAW'] },
          },
          ports: [{ name: 'tcp', containerPort: OUT_OF_WINDOW_PORT, protocol: 'TCP' }],
          readinessProbe: { tcpSocket: { port: OUT_OF_WINDOW_PORT }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    },
  };
  const [applied] = (await cluster.kube.apply(patched(service, patches))) as [k8s.V1Service];
  await cluster.kube.apply(patched(pod, patches));
  const [ready] = await waitForReadyBackends(cluster, namespace, labels, 1, name);
  return { pod: ready, service: applied, address: `${applied.spec!.clusterIP}:${OUT_OF_WINDOW_PORT}` };
}

/**
 * `count` connections from `client` to `address`, one after another: each answers "survived" when it
 * outlived the injected segment, or fails by how it ended ("reset" is kubernetes#74839).
 */
export async function outOfWindowTries(cluster: Cluster, client: ClientPod, address: string, count: number) {
  const args = ['out-of-window', address, `--count=${count}`, `--timeout=${cluster.settings.timeouts.probe}ms`];
  const result = await execInPod(cluster.kube, { namespace: client.namespace, name: client.name }, [
    '/svcprobe',
    ...args,
  ]);
  return parseProbeOutput<Tally>(result.stdout, args.join(' '), `in pod ${client.name}`, result.stderr);
}
