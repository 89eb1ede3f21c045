// A headless Service (clusterIP: None) over a StatefulSet `web`: its pods get hostname
// web-0… and subdomain web, so each has a DNS name web-N.web.<ns>.svc.<domain>. A pod
// turns unready when /tmp/unready exists (setUnready), to see it leave the A records.
import type * as k8s from '@kubernetes/client-node';
import { images } from '../config.js';
import { execInPod } from '../kube/exec.js';
import type { Cluster } from '../suite/fixtures.js';
import { setDiagnosisTarget } from '../suite/diagnosis-target.js';
import { HOSTNAMES_PORT, waitForReadyBackends, type BackendPod } from './hostnames.js';
import { runLabels } from './labels.js';

export const HEADLESS_NAME = 'web';

export interface Headless {
  namespace: string;
  name: string;
  pods: BackendPod[];
}

export async function deployHeadless(cluster: Cluster, namespace: string, replicas = 3): Promise<Headless> {
  const name = HEADLESS_NAME;
  const app = { app: name };
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, app) },
    spec: { clusterIP: 'None', selector: app, ports: [{ name: 'default', port: HOSTNAMES_PORT, targetPort: HOSTNAMES_PORT, protocol: 'TCP' }] },
  };
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
          containers: [
            {
              name,
              image: images.agnhost,
              imagePullPolicy: 'IfNotPresent',
              args: ['serve-hostname', `--port=${HOSTNAMES_PORT}`],
              ports: [{ name: 'serve', containerPort: HOSTNAMES_PORT, protocol: 'TCP' }],
              readinessProbe: { exec: { command: ['sh', '-c', '[ ! -e /tmp/unready ]'] }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      },
    },
  };
  setDiagnosisTarget(namespace, name);
  await cluster.kube.apply(service);
  await cluster.kube.apply(statefulSet);
  const pods = await waitForReadyBackends(cluster, namespace, app, replicas, name);
  return { namespace, name, pods };
}

/** Makes one pod fail its readiness probe from now on. */
export async function setUnready(cluster: Cluster, namespace: string, pod: string): Promise<void> {
  await execInPod(cluster.kube, { namespace, name: pod }, ['sh', '-c', 'echo x > /tmp/unready']);
}
