// A Service in front of pods the spec made itself (server-pods.ts), shaped as the guide's:
// port 80 named `default` → 9376, with a `tweak` for the variant (type, traffic policies,
// publishNotReadyAddresses) and SVC_WORKLOAD_PATCH applied by its name.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { serviceFor } from './hostnames.js';
import { patched, workloadPatches } from './patches.js';

/** Creates (or updates) the Service and returns it as the API server made it (ClusterIP, NodePorts). */
export async function applyServiceOver(
  cluster: Cluster,
  namespace: string,
  name: string,
  selector: Record<string, string>,
  tweak: (s: k8s.V1Service) => void = () => {},
): Promise<k8s.V1Service> {
  const service = serviceFor(cluster, namespace, name, selector);
  tweak(service);
  const [applied] = (await cluster.kube.apply(
    patched(service, workloadPatches(cluster.settings.run.workloadPatchFile)),
  )) as [k8s.V1Service];
  return applied;
}
