// Bare server pods (agnhost netexec on the hostnames port) for the specs whose backends must stay
// what they are when deleted or evicted, where a Deployment would replace them with ready ones: a
// pod kept terminating, one that turns unready as it terminates, one that never turns ready. Each
// is pinned to a node, carries the labels its Services select, and takes SVC_WORKLOAD_PATCH by name.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { waitFor } from '../kube/wait.js';
import { timePhase } from '../host/phases.js';
import type { BackendPod } from './backends.js';
import { HOSTNAMES_PORT } from './hostnames.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

/** A port nothing in the pod listens on: a readiness probe of it never passes. */
const NEVER_READY_PORT = HOSTNAMES_PORT + 1;

/**
 * How the pod's readiness is decided: `listening` while netexec listens (it goes on listening
 * through --delay-shutdown, so the pod stays ready, and serving, while it terminates);
 * `until-sigterm` by netexec's /readyz, which answers 503 from SIGTERM on (the pod turns unready as
 * it starts terminating); `never` by a port nothing listens on.
 */
export type Readiness = 'listening' | 'until-sigterm' | 'never';

const PROBES: Record<Readiness, k8s.V1Probe> = {
  listening: { tcpSocket: { port: HOSTNAMES_PORT }, periodSeconds: 1, failureThreshold: 1 },
  'until-sigterm': { httpGet: { path: '/readyz', port: HOSTNAMES_PORT }, periodSeconds: 1, failureThreshold: 1 },
  never: { tcpSocket: { port: NEVER_READY_PORT }, periodSeconds: 5 },
};

export interface ServerPodOptions {
  name: string;
  node: string;
  labels: Record<string, string>;
  readiness: Readiness;
  /** Seconds it goes on serving once deleted (netexec --delay-shutdown, within its grace period); 0 by default. */
  keepServingSeconds?: number;
}

export function serverPodObject(cluster: Cluster, namespace: string, options: ServerPodOptions): k8s.V1Pod {
  const keep = options.keepServingSeconds ?? 0;
  const udp = options.readiness === 'until-sigterm' ? HOSTNAMES_PORT : -1;
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: options.name, namespace, labels: runLabels(cluster.runId, options.labels) },
    spec: {
      nodeName: options.node,
      terminationGracePeriodSeconds: keep + 1,
      securityContext: RESTRICTED_POD,
      containers: [
        {
          name: 'server',
          image: cluster.settings.images.agnhost,
          imagePullPolicy: 'IfNotPresent',
          securityContext: RESTRICTED_CONTAINER,
          // netexec's /readyz answers 200 only once its UDP server is up: that one serves UDP as well.
          args: ['netexec', `--http-port=${HOSTNAMES_PORT}`, `--udp-port=${udp}`, `--delay-shutdown=${keep}`],
          ports: [{ name: 'serve', containerPort: HOSTNAMES_PORT, protocol: 'TCP' }],
          readinessProbe: PROBES[options.readiness],
        },
      ],
    },
  };
  return patched(pod, workloadPatches(cluster.settings.run.workloadPatchFile));
}

/** Creates the pod; waitForServerPod says when it serves. */
export async function startServerPod(cluster: Cluster, namespace: string, options: ServerPodOptions): Promise<void> {
  await cluster.kube.apply(serverPodObject(cluster, namespace, options));
}

/**
 * Waits until the pod runs with an address and its server has started: Ready when `ready`, else
 * running without turning Ready (a pod that never does). Returns it as a Service's backend.
 */
export async function waitForServerPod(
  cluster: Cluster,
  namespace: string,
  name: string,
  ready = true,
): Promise<BackendPod> {
  const pod = await timePhase('pod starts', `${namespace}/${name}`, () =>
    waitFor(
      `server pod ${namespace}/${name} ${ready ? 'ready' : 'running'}`,
      cluster.settings.timeouts.podsReady,
      async () => {
        const p = await cluster.kube.core.readNamespacedPod({ namespace, name });
        const running = !!p.status?.podIP && !!p.status.containerStatuses?.every((c) => c.state?.running);
        return { done: running && (!ready || isPodReady(p)), seen: describePod(p), value: p };
      },
    ),
  );
  return { name, ip: pod.status!.podIP!, node: pod.spec!.nodeName!, uid: pod.metadata!.uid! };
}
