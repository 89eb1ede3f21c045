// When a new Service may be used: kube-proxy's rules on every node send it to exactly its
// backends, or, where node commands cannot run, every backend answers on its ClusterIP from a
// backend pod on each of their nodes (service-answering.ts).
import type { Cluster } from '../cluster/cluster.js';
import { hostPort } from '../address.js';
import { waitForProgrammedService } from '../node/proxy-rules.js';
import { nodeAccessSkipReason } from '../node/run-on-node.js';
import type { NftServicePortRef } from '../parse/nft.js';
import type { BackendPod } from './backends.js';
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
