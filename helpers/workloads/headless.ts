// A headless Service (clusterIP: None) over a StatefulSet `web`: its pods get hostname
// web-0… and subdomain web, so each has a DNS name web-N.web.<ns>.svc.<domain>. A pod
// turns unready when /tmp/unready exists (setUnready), to see it leave the A records.
// A second headless Service `web-fresh` over the same pods is asked only after that, so
// its answer comes from the EndpointSlices, not from CoreDNS's cache (ttl 30, as kubeadm).
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { waitFor } from '../kube/wait.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { HOSTNAMES_PORT } from './hostnames.js';
import { runLabels } from './labels.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';
import { endpointSliceAddresses } from '../kube/services.js';

export const HEADLESS_NAME = 'web';
export const FRESH_NAME = 'web-fresh';

export interface Headless {
  namespace: string;
  name: string;
  pods: BackendPod[];
}

export async function deployHeadless(cluster: Cluster, namespace: string, replicas = 3): Promise<Headless> {
  const name = HEADLESS_NAME;
  const app = { app: name };
  const headless = (serviceName: string): k8s.V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName, namespace, labels: runLabels(cluster.runId, app) },
    spec: {
      clusterIP: 'None',
      selector: app,
      ports: [{ name: 'default', port: HOSTNAMES_PORT, targetPort: HOSTNAMES_PORT, protocol: 'TCP' }],
    },
  });
  const statefulSet: k8s.V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, labels: runLabels(cluster.runId, app) },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: app },
      template: {
        metadata: { labels: runLabels(cluster.runId, app) },
        spec: {
          terminationGracePeriodSeconds: 1,
          securityContext: RESTRICTED_POD,
          containers: [
            {
              name,
              image: cluster.settings.images.agnhost,
              imagePullPolicy: 'IfNotPresent',
              securityContext: RESTRICTED_CONTAINER,
              args: ['serve-hostname', `--port=${HOSTNAMES_PORT}`],
              ports: [{ name: 'serve', containerPort: HOSTNAMES_PORT, protocol: 'TCP' }],
              readinessProbe: {
                exec: { command: ['sh', '-c', '[ ! -e /tmp/unready ]'] },
                periodSeconds: 1,
                failureThreshold: 1,
              },
            },
          ],
        },
      },
    },
  };
  await cluster.kube.apply(headless(name));
  await cluster.kube.apply(headless(FRESH_NAME));
  await cluster.kube.apply(statefulSet);
  const pods = await waitForReadyBackends(cluster, namespace, app, replicas, name);
  return { namespace, name, pods };
}

/** Waits until the EndpointSlices of `service` list `ip` as not ready. */
export async function waitForNotReadyEndpoint(
  cluster: Cluster,
  namespace: string,
  service: string,
  ip: string,
): Promise<void> {
  await waitFor(
    `${ip} not ready in the EndpointSlices of ${namespace}/${service}`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const endpoint = (await endpointSliceAddresses(cluster.kube, namespace, service)).find((e) => e.ip === ip);
      return { done: endpoint?.ready === false, seen: endpoint ? `ready=${endpoint.ready}` : 'not listed' };
    },
  );
}

/** Makes one pod fail its readiness probe from now on. */
export async function setUnready(cluster: Cluster, namespace: string, pod: string): Promise<void> {
  await execInPod(cluster.kube, { namespace, name: pod }, ['sh', '-c', 'echo x > /tmp/unready']);
}
