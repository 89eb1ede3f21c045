// When a new Service may be used: kube-proxy's rules on every node send it to exactly its
// backends, or, where node commands cannot run, every backend answers on its ClusterIP from a
// backend pod on each of their nodes (service-answering.ts).
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { waitForProgrammedService } from '../node/proxy-rules.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import { endpointSliceAddresses, getService } from '../kube/services.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { waitForServiceAnswering } from './service-answering.js';
import { timePhase } from '../host/phases.js';

/** The first port of an applied Service at one of its ClusterIPs, as kube-proxy's rules and the answering wait name it. */
function firstPortRef(service: k8s.V1Service, clusterIP: string) {
  const port = service.spec!.ports![0];
  return {
    namespace: service.metadata!.namespace!,
    name: service.metadata!.name!,
    portName: port.name,
    protocol: port.protocol,
    clusterIP,
    port: port.port,
    sticky: service.spec?.sessionAffinity === 'ClientIP',
  };
}

/**
 * Waits until the Service's first port may be used: kube-proxy on every node sends it to exactly
 * `destinations` ("10.244.1.3:9376"), or without node access every backend answers on the ClusterIP.
 * `container`: the backends' container that runs the no-node-access requests. `clusterIP`: the one of a
 * dual-stack Service's ClusterIPs to wait for (each family's rules are synced apart); the primary by default.
 */
export async function waitForProgrammed(
  cluster: Cluster,
  service: k8s.V1Service,
  backends: BackendPod[],
  destinations: string[],
  container: string,
  clusterIP: string = service.spec!.clusterIP!,
): Promise<void> {
  const ref = firstPortRef(service, clusterIP);
  const budget = cluster.settings.timeouts.serviceSync;
  await timePhase('rule waits', `${ref.namespace}/${ref.name}`, () =>
    nodeAccessSkipReason(cluster)
      ? waitForServiceAnswering(cluster, ref, backends, container, budget)
      : waitForProgrammedService(cluster, ref, destinations, budget),
  );
}

/**
 * A Service of a project's own, ready to use: `count` Ready backends listed in its EndpointSlices and,
 * on every node, kube-proxy's rules sending its first port to exactly the ready endpoints. Without node
 * access the data path decides instead, for backends that answer `GET /hostname` with their pod name
 * (agnhost serve-hostname, netexec); for others the wait ends with the endpoints.
 */
export async function waitForService(
  cluster: Cluster,
  namespace: string,
  name: string,
  count: number,
): Promise<BackendPod[]> {
  const service = await getService(cluster.kube, namespace, name);
  const backends = await waitForReadyBackends(cluster, namespace, service.spec?.selector ?? {}, count, name);
  // The slices list each endpoint per Service port: the first port's are what its rules send to.
  const portName = service.spec!.ports![0].name ?? '';
  const endpoints = (await endpointSliceAddresses(cluster.kube, namespace, name)).filter((e) => e.ready);
  const first = endpoints.filter((e) => e.portName === portName);
  const destinations = [...new Set((first.length ? first : endpoints).map((e) => e.address))];
  await waitForProgrammed(cluster, service, backends, destinations, '');
  return backends;
}
