// The guide's workload: Deployment `hostnames` (3 replicas answering their own pod name on
// TCP 9376, agnhost serve-hostname) and Service `hostnames` port 80 → 9376. A `tweak`
// callback changes the default objects for one spec instead of a flag per variant.
import type * as k8s from '@kubernetes/client-node';
import { hostPort } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';
import { waitForProgrammed } from './programmed.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

export const HOSTNAMES_PORT = 9376;
export const SERVICE_PORT = 80;

/** agnhost netexec on the hostnames port: GET /hostname answers the pod's name, /clientip the source it saw. */
export function netexecArgs(): string[] {
  return ['netexec', `--http-port=${HOSTNAMES_PORT}`, '--udp-port=-1'];
}

/** netexec answering on the hostnames port over HTTP and over UDP, for the specs that send both. */
export function netexecTcpAndUdpArgs(...extra: string[]): string[] {
  return ['netexec', `--http-port=${HOSTNAMES_PORT}`, `--udp-port=${HOSTNAMES_PORT}`, ...extra];
}

/** Declares the hostnames port over UDP too on the Deployment's container (netexecTcpAndUdpArgs serves it). */
export function declareUdpPort(d: k8s.V1Deployment): void {
  d.spec!.template.spec!.containers[0].ports!.push({
    name: 'serve-udp',
    containerPort: HOSTNAMES_PORT,
    protocol: 'UDP',
  });
}

export interface Hostnames {
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  /** The ready backends when the deploy finished, sorted by name: a check judges answers against backendsNow(). */
  pods: BackendPod[];
  deployment: k8s.V1Deployment;
  service: k8s.V1Service;
  /**
   * The backends as they are now: waits until the Deployment's replicas are Ready and listed in the
   * Service's EndpointSlices (a pod replaced since the deploy is its replacement here), then returns them.
   */
  backendsNow(): Promise<BackendPod[]>;
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
  /**
   * With waitReady, also wait until kube-proxy sends the Service's IP to exactly those pods on
   * every node (default true). A spec that never sends to the Service's IP (it asks the pods
   * directly, or the API, or DNS) passes false and starts its checks one kube-proxy sync sooner.
   */
  programmed?: boolean;
}

export function hostnamesObjects(
  cluster: Cluster,
  namespace: string,
  options: HostnamesOptions = {},
): { deployment: k8s.V1Deployment; service: k8s.V1Service } {
  const name = options.name ?? 'hostnames';
  const app = { app: name };
  const spread = cluster.nodes.length > 1;
  const deployment: k8s.V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: runLabels(cluster.runId, app) },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: app },
      template: {
        metadata: { labels: runLabels(cluster.runId, app) },
        spec: {
          terminationGracePeriodSeconds: 1,
          securityContext: RESTRICTED_POD,
          // On several nodes, spread the backends so that same-node and cross-node paths both exist.
          topologySpreadConstraints: spread
            ? [
                {
                  maxSkew: 1,
                  topologyKey: 'kubernetes.io/hostname',
                  whenUnsatisfiable: 'DoNotSchedule',
                  labelSelector: { matchLabels: app },
                },
              ]
            : undefined,
          containers: [
            {
              name,
              image: cluster.settings.images.agnhost,
              imagePullPolicy: 'IfNotPresent',
              securityContext: RESTRICTED_CONTAINER,
              args: options.args ?? ['serve-hostname', `--port=${HOSTNAMES_PORT}`],
              ports: [{ name: 'serve', containerPort: HOSTNAMES_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: HOSTNAMES_PORT }, periodSeconds: 1, failureThreshold: 2 },
            },
          ],
        },
      },
    },
  };
  const service = serviceFor(cluster, namespace, name, app);
  options.tweak?.deployment?.(deployment);
  options.tweak?.service?.(service);
  const patches = workloadPatches(cluster.settings.run.workloadPatchFile);
  return { deployment: patched(deployment, patches), service: patched(service, patches) };
}

/** The guide's Service shape: port 80 named `default` → the hostnames port, in front of `selector`. */
export function serviceFor(
  cluster: Cluster,
  namespace: string,
  name: string,
  selector: Record<string, string>,
): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, selector) },
    spec: {
      selector,
      ports: [{ name: 'default', port: SERVICE_PORT, targetPort: HOSTNAMES_PORT, protocol: 'TCP' }],
    },
  };
}

export async function deployHostnames(
  cluster: Cluster,
  namespace: string,
  options: HostnamesOptions = {},
): Promise<Hostnames> {
  const { deployment, service } = hostnamesObjects(cluster, namespace, options);
  const [appliedDeployment] = (await cluster.kube.apply(deployment)) as [k8s.V1Deployment];
  const [appliedService] = (await cluster.kube.apply(service)) as [k8s.V1Service];
  const name = service.metadata!.name!;
  const clusterIP = appliedService.spec?.clusterIP;
  if (!clusterIP) throw new Error(`Service ${namespace}/${name} was created without a ClusterIP`);
  const selector = deployment.spec!.selector.matchLabels!;
  const replicas = deployment.spec!.replicas!;
  const pods =
    options.waitReady === false ? [] : await waitForReadyBackends(cluster, namespace, selector, replicas, name);
  const container = deployment.spec!.template.spec!.containers[0].name;
  if (pods.length && options.programmed !== false)
    await waitForProgrammed(cluster, appliedService, pods, destinationsOf(appliedService, pods), container);
  const port = appliedService.spec!.ports![0].port;
  const backendsNow = () => waitForReadyBackends(cluster, namespace, selector, replicas, name);
  return {
    namespace,
    name,
    clusterIP,
    port,
    pods,
    deployment: appliedDeployment,
    service: appliedService,
    backendsNow,
  };
}

export interface ExtraService {
  name: string;
  clusterIP: string;
  port: number;
  service: k8s.V1Service;
}

/** One more Service in front of the same backends, created and not waited for: a check sees its rules appear. */
export async function createService(
  cluster: Cluster,
  app: Hostnames,
  name: string,
  tweak: (s: k8s.V1Service) => void = () => {},
): Promise<ExtraService> {
  const service = serviceFor(cluster, app.namespace, name, app.service.spec!.selector!);
  tweak(service);
  const [applied] = (await cluster.kube.apply(
    patched(service, workloadPatches(cluster.settings.run.workloadPatchFile)),
  )) as [k8s.V1Service];
  return { name, clusterIP: applied.spec!.clusterIP!, port: applied.spec!.ports![0].port, service: applied };
}

/**
 * One more Service in front of the same backends (e.g. with session affinity), waited for
 * like the first: listed in its EndpointSlices and programmed by kube-proxy on every node.
 */
export async function addService(
  cluster: Cluster,
  app: Hostnames,
  name: string,
  tweak: (s: k8s.V1Service) => void,
): Promise<ExtraService> {
  const extra = await createService(cluster, app, name, tweak);
  const pods = await waitForReadyBackends(cluster, app.namespace, app.service.spec!.selector!, app.pods.length, name);
  const container = app.deployment.spec!.template.spec!.containers[0].name;
  await waitForProgrammed(cluster, extra.service, pods, destinationsOf(extra.service, pods), container);
  return extra;
}

/** Where kube-proxy must send the Service's first port: each backend at its targetPort (9376 when the port is named). */
function destinationsOf(service: k8s.V1Service, backends: BackendPod[]): string[] {
  const target = service.spec!.ports![0].targetPort;
  return backends.map((p) => hostPort(p.ip, typeof target === 'number' ? target : HOSTNAMES_PORT));
}
