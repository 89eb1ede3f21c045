// One family of a dual-stack Service: its ClusterIP of that family, its endpoints as the EndpointSlices of
// that addressType list them, and the wait until kube-proxy sends that ClusterIP to exactly them on every
// node. kube-proxy keeps each family's rules apart (iptables and ip6tables; nft tables ip and ip6) and
// syncs them apart: the primary family's rules being written says nothing of the other's.
import type * as k8s from '@kubernetes/client-node';
import { familyOf } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import type { IpFamily } from '../cluster/families.js';
import { endpointSlicesOf, sliceAddresses, type EndpointAddress } from '../kube/services.js';
import { waitFor } from '../kube/wait.js';
import type { BackendPod } from './backends.js';
import { waitForProgrammed } from './programmed.js';

/** The Service's ClusterIP of `family`, or undefined where it has none. */
export function clusterIPOfFamily(service: k8s.V1Service, family: IpFamily): string | undefined {
  return service.spec?.clusterIPs?.find((ip) => familyOf(ip) === family);
}

/** What the Service's EndpointSlices of `family` (addressType) list, one entry per address and port. */
export async function familyEndpoints(
  cluster: Cluster,
  namespace: string,
  name: string,
  family: IpFamily,
): Promise<EndpointAddress[]> {
  const slices = await endpointSlicesOf(cluster.kube, namespace, name);
  return sliceAddresses(slices.filter((slice) => slice.addressType === family));
}

/**
 * Waits until the Service's EndpointSlices of `family` list each of `backends` as ready, then until its
 * first port at its ClusterIP of that family is programmed (waitForProgrammed). Returns that ClusterIP.
 */
export async function waitForFamilyProgrammed(
  cluster: Cluster,
  service: k8s.V1Service,
  family: IpFamily,
  backends: BackendPod[],
  container: string,
): Promise<string> {
  const { namespace, name } = service.metadata as { namespace: string; name: string };
  const clusterIP = clusterIPOfFamily(service, family);
  if (!clusterIP)
    throw new Error(`Service ${namespace}/${name} has no ${family} ClusterIP (clusterIPs ${service.spec?.clusterIPs})`);
  const portName = service.spec!.ports![0].name ?? '';
  const want = backends.map((p) => p.name);
  const destinations = await waitFor(
    `${family} EndpointSlices of ${namespace}/${name} listing ${want.join(', ')} ready`,
    cluster.settings.timeouts.podsReady,
    async () => {
      const ready = (await familyEndpoints(cluster, namespace, name, family)).filter(
        (e) => e.ready && e.portName === portName,
      );
      const listed = ready.map((e) => e.podName ?? e.ip);
      return {
        done: want.every((pod) => listed.includes(pod)),
        seen: ready.map((e) => `${e.podName ?? '?'} ${e.address}`).join(', ') || 'none',
        value: ready.map((e) => e.address),
      };
    },
  );
  await waitForProgrammed(cluster, service, backends, destinations, container, clusterIP);
  return clusterIP;
}
