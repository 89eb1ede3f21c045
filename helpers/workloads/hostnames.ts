// The guide's workload: Deployment `hostnames` (3 replicas answering their own pod name on
// TCP 9376, agnhost serve-hostname) and Service `hostnames` port 80 → 9376. A `tweak`
// callback changes the default objects for one spec instead of a flag per variant.
import type * as k8s from '@kubernetes/client-node';
import { images, timeouts } from '../config.js';
import { execInPod } from '../kube/exec.js';
import { waitFor } from '../kube/wait.js';
import { waitForProgrammedService } from '../node/proxy-rules.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { Cluster } from '../suite/fixtures.js';
import { setDiagnosisTarget } from '../suite/diagnosis-target.js';
import { waitForServiceAnswering } from './service-answering.js';
import { runLabels } from './labels.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';
import { hostPort } from '../address.js';
import { endpointSliceAddresses } from '../kube/services.js';
import type { NftServicePortRef } from '../parse/nft.js';

export const HOSTNAMES_PORT = 9376;
export const SERVICE_PORT = 80;

/** agnhost netexec on the hostnames port: GET /hostname answers the pod's name, /clientip the source it saw. */
export function netexecArgs(): string[] {
  return ['netexec', `--http-port=${HOSTNAMES_PORT}`, '--udp-port=-1'];
}

/** "10.250.0.11:41234" → "10.250.0.11" (netexec /clientip answers host:port). */
export function hostOf(hostPort: string): string {
  return hostPort.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

export interface BackendPod {
  name: string;
  ip: string;
  node: string;
  uid: string;
}

export interface Hostnames {
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  /** The ready backends, sorted by name. */
  pods: BackendPod[];
  deployment: k8s.V1Deployment;
  service: k8s.V1Service;
}

export interface HostnamesOptions {
  name?: string;
  replicas?: number;
  /** agnhost arguments; serve-hostname by default, netexec where a spec needs /clientip. */
  args?: string[];
  tweak?: { deployment?: (d: k8s.V1Deployment) => void; service?: (s: k8s.V1Service) => void };
  /**
   * Wait until the pods are ready, listed in the Service's EndpointSlices and programmed by
   * kube-proxy on every node, or without node access answering from the backends' nodes (default true).
   */
  waitReady?: boolean;
}

export function hostnamesObjects(cluster: Cluster, namespace: string, o: HostnamesOptions = {}): { deployment: k8s.V1Deployment; service: k8s.V1Service } {
  const name = o.name ?? 'hostnames';
  const app = { app: name };
  const deployment: k8s.V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: runLabels(cluster.runId, app) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: app },
      template: {
        metadata: { labels: runLabels(cluster.runId, app) },
        spec: {
          terminationGracePeriodSeconds: 1,
          securityContext: RESTRICTED_POD,
          // On several nodes, spread the backends so that same-node and cross-node paths both exist.
          topologySpreadConstraints:
            cluster.nodes.length > 1 ? [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: app } }] : undefined,
          containers: [
            {
              name,
              image: images.agnhost,
              imagePullPolicy: 'IfNotPresent',
              securityContext: RESTRICTED_CONTAINER,
              args: o.args ?? ['serve-hostname', `--port=${HOSTNAMES_PORT}`],
              ports: [{ name: 'serve', containerPort: HOSTNAMES_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: HOSTNAMES_PORT }, periodSeconds: 1, failureThreshold: 2 },
            },
          ],
        },
      },
    },
  };
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, app) },
    spec: { selector: app, ports: [{ name: 'default', port: SERVICE_PORT, targetPort: HOSTNAMES_PORT, protocol: 'TCP' }] },
  };
  o.tweak?.deployment?.(deployment);
  o.tweak?.service?.(service);
  if (name === 'hostnames') injectWorkloadFault(process.env.SVC_FAULT, deployment, service);
  return { deployment, service };
}

/**
 * The self-test's workload faults (npm run selftest sets SVC_FAULT): the spec's own code
 * stays as it is and deploys a broken `hostnames`, which the suite must catch.
 */
function injectWorkloadFault(fault: string | undefined, deployment: k8s.V1Deployment, service: k8s.V1Service): void {
  const container = deployment.spec!.template.spec!.containers[0];
  const port = service.spec!.ports![0];
  if (fault === 'selector-typo') service.spec!.selector = { app: 'hostnamez' };
  if (fault === 'wrong-target-port') port.targetPort = 9377 as never;
  if (fault === 'missing-named-port') port.targetPort = 'http' as never;
  // A probe that fails once /tmp/unready is written: deployHostnames writes it in one pod.
  if (fault === 'unready-pod') container.readinessProbe = { exec: { command: ['sh', '-c', '[ ! -s /tmp/unready ]'] }, periodSeconds: 1, failureThreshold: 1 };
}

export async function deployHostnames(cluster: Cluster, namespace: string, o: HostnamesOptions = {}): Promise<Hostnames> {
  const { deployment, service } = hostnamesObjects(cluster, namespace, o);
  setDiagnosisTarget(namespace, service.metadata!.name!);
  const [appliedDeployment, appliedService] = [await cluster.kube.apply(deployment), await cluster.kube.apply(service)].map((a) => a[0]) as [
    k8s.V1Deployment,
    k8s.V1Service,
  ];
  const name = service.metadata!.name!;
  const clusterIP = appliedService.spec?.clusterIP;
  if (!clusterIP) throw new Error(`Service ${namespace}/${name} was created without a ClusterIP`);
  const replicas = deployment.spec!.replicas!;
  const pods = o.waitReady === false ? [] : await waitForReadyBackends(cluster, namespace, deployment.spec!.selector.matchLabels!, replicas, name);
  const port = service.spec!.ports![0];
  const programmed = (backends: BackendPod[]) => waitForProgrammed(cluster, { namespace, name, portName: port.name, protocol: port.protocol, clusterIP, port: port.port, sticky: isSticky(service) }, backends, deployment.spec!.template.spec!.containers[0].name);
  if (pods.length) await programmed(pods);
  if (process.env.SVC_FAULT === 'unready-pod' && name === 'hostnames' && pods.length) {
    // The self-test's fault: one pod fails readiness after start; in place once kube-proxy dropped it.
    await execInPod(cluster.kube, { namespace, name: pods[0].name }, ['sh', '-c', 'echo x > /tmp/unready']);
    await programmed(pods.slice(1));
  }
  return { namespace, name, clusterIP, port: service.spec!.ports![0].port, pods, deployment: appliedDeployment, service: appliedService };
}

export interface ExtraService {
  name: string;
  clusterIP: string;
  port: number;
  service: k8s.V1Service;
}

/**
 * One more Service in front of the same backends (e.g. with session affinity), waited for
 * like the first: listed in its EndpointSlices and programmed by kube-proxy on every node.
 */
export async function addService(cluster: Cluster, app: Hostnames, name: string, tweak: (s: k8s.V1Service) => void): Promise<ExtraService> {
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: app.namespace, labels: runLabels(cluster.runId, { app: app.name }) },
    spec: { selector: app.service.spec!.selector, ports: [{ name: 'default', port: SERVICE_PORT, targetPort: HOSTNAMES_PORT, protocol: 'TCP' }] },
  };
  tweak(service);
  const [applied] = (await cluster.kube.apply(service)) as [k8s.V1Service];
  const clusterIP = applied.spec!.clusterIP!;
  await waitForReadyBackends(cluster, app.namespace, app.service.spec!.selector!, app.pods.length, name);
  const port = service.spec!.ports![0];
  await waitForProgrammed(cluster, { namespace: app.namespace, name, portName: port.name, protocol: port.protocol, clusterIP, port: port.port, sticky: isSticky(service) }, app.pods, app.deployment.spec!.template.spec!.containers[0].name);
  return { name, clusterIP, port: service.spec!.ports![0].port, service: applied };
}

/**
 * Waits until the Service can be used from the nodes: kube-proxy's rules on every node send it
 * to exactly these backends, or, where node commands cannot run, every backend answers on its
 * ClusterIP from a backend pod on each of their nodes (service-answering.ts).
 */
async function waitForProgrammed(cluster: Cluster, service: NftServicePortRef & { clusterIP: string; port: number; sticky: boolean }, backends: BackendPod[], container: string): Promise<void> {
  if (nodeAccessSkipReason(cluster)) return waitForServiceAnswering(cluster, service, backends, container, timeouts.serviceSync);
  await waitForProgrammedService(cluster, service, backends.map((p) => hostPort(p.ip, HOSTNAMES_PORT)), timeouts.serviceSync);
}

const isSticky = (service: k8s.V1Service) => service.spec?.sessionAffinity === 'ClientIP';

/**
 * Waits for `count` ready pods matching the labels, and for the Service's EndpointSlices to
 * list each of them.
 */
export async function waitForReadyBackends(cluster: Cluster, namespace: string, labels: Record<string, string>, count: number, service: string): Promise<BackendPod[]> {
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await waitFor(`${count} ready pods ${selector} in ${namespace}`, timeouts.podsReady, async () => {
    const list = await cluster.kube.core.listNamespacedPod({ namespace, labelSelector: selector });
    const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
    const ready = live.filter(isPodReady);
    const seen = live.map(describePod).join('; ') || `no pods${await whyNoPods(cluster, namespace, selector)}`;
    return { done: ready.length === count && live.length === count, seen, value: ready.map(toBackend) };
  });
  await waitFor(`EndpointSlices of Service ${namespace}/${service} listing ${count} ready endpoints`, timeouts.podsReady, async () => {
    const ips = new Set((await endpointSliceAddresses(cluster.kube, namespace, service)).filter((e) => e.ready).map((e) => e.ip));
    return { done: pods.every((p) => ips.has(p.ip)), seen: `ready endpoints: ${[...ips].join(', ') || 'none'}` };
  });
  return pods.sort((a, b) => a.name.localeCompare(b.name));
}

/** Why a controller made no pods, from its ReplicaSets' ReplicaFailure condition (e.g. Pod Security forbids them). */
async function whyNoPods(cluster: Cluster, namespace: string, selector: string): Promise<string> {
  const sets = await cluster.kube.apps.listNamespacedReplicaSet({ namespace, labelSelector: selector }).catch(() => undefined);
  const failure = sets?.items.flatMap((s) => s.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  return failure ? ` (${failure.reason}: ${failure.message})` : '';
}

export function isPodReady(pod: k8s.V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function toBackend(pod: k8s.V1Pod): BackendPod {
  return { name: pod.metadata!.name!, ip: pod.status!.podIP!, node: pod.spec!.nodeName!, uid: pod.metadata!.uid! };
}

/** "hostnames-abc (Pending, ImagePullBackOff)" — what a pod is doing, for wait messages. */
export function describePod(pod: k8s.V1Pod): string {
  const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).filter(Boolean);
  const restarts = pod.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0;
  const detail = [pod.status?.phase, isPodReady(pod) ? 'ready' : 'not ready', ...(waiting ?? []), restarts ? `${restarts} restarts` : ''].filter(Boolean);
  return `${pod.metadata?.name} (${detail.join(', ')})`;
}
