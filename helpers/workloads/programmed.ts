// When a new Service may be used: kube-proxy's rules on every node send it to exactly its
// backends, or, where node commands cannot run, every backend answers on its ClusterIP from a
// backend pod on each of their nodes (service-answering.ts).
import type { Cluster } from '../cluster/cluster.js';
import { hostPort } from '../address.js';
import { waitForProgrammedService } from '../node/proxy-rules.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { NftServicePortRef } from '../parse/nft.js';
import { endpointSliceAddresses, getService } from '../kube/services.js';
import { waitForReadyBackends, type BackendPod } from './backends.js';
import { waitForServiceAnswering } from './service-answering.js';

export type ProgrammedService = NftServicePortRef & {
  clusterIP: string;
  port: number;
  targetPort: number;
  sticky: boolean;
};

/** `container`: the backends' container that runs the no-node-access requests. */
export async function waitForProgrammed(
  cluster: Cluster,
  service: ProgrammedService,
  backends: BackendPod[],
  container: string,
): Promise<void> {
  const budget = cluster.settings.timeouts.serviceSync;
  if (nodeAccessSkipReason(cluster)) return waitForServiceAnswering(cluster, service, backends, container, budget);
  const destinations = backends.map((p) => hostPort(p.ip, service.targetPort));
  await waitForProgrammedService(cluster, service, destinations, budget);
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
  const port = service.spec!.ports![0];
  const ref = {
    namespace,
    name,
    portName: port.name,
    protocol: port.protocol,
    clusterIP: service.spec!.clusterIP!,
    port: port.port,
    sticky: service.spec?.sessionAffinity === 'ClientIP',
  };
  const budget = cluster.settings.timeouts.serviceSync;
  if (nodeAccessSkipReason(cluster)) {
    await waitForServiceAnswering(cluster, ref, backends, '', budget);
    return backends;
  }
  // The slices list each endpoint per Service port: the first port's are what its rules send to.
  const endpoints = (await endpointSliceAddresses(cluster.kube, namespace, name)).filter((e) => e.ready);
  const first = endpoints.filter((e) => e.portName === (port.name ?? ''));
  const destinations = [...new Set((first.length ? first : endpoints).map((e) => e.address))];
  await waitForProgrammedService(cluster, ref, destinations, budget);
  return backends;
}
