// An ExternalName Service whose target is a name inside the cluster: the suites never
// point one at an outside host (the network rule: CoreDNS does not forward here, and a
// test must not depend on a resolver off the machine).
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { runLabels } from './labels.js';

/** Throws unless `target` is a Service name under `.svc.<domain>`. */
export function assertInClusterName(target: string, domain: string): void {
  const name = target.replace(/\.$/, '');
  if (!name.endsWith(`.svc.${domain}`) || name.split('.').length < 4) {
    throw new Error(
      `ExternalName target "${target}" is not a Service name inside the cluster (*.svc.${domain}); the suites never send DNS or traffic outside`,
    );
  }
}

export async function createExternalName(
  cluster: Cluster,
  namespace: string,
  name: string,
  target: string,
): Promise<k8s.V1Service> {
  assertInClusterName(target, cluster.domain);
  const service: k8s.V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: runLabels(cluster.runId, { app: name }) },
    spec: { type: 'ExternalName', externalName: target },
  };
  const [applied] = (await cluster.kube.apply(service)) as [k8s.V1Service];
  return applied;
}

/**
 * Changes a Service's type in place (read, change, replace: one update, as `kubectl edit` does). The API
 * server drops what the old type needed and the new one does not (a ClusterIP, NodePorts) unless the
 * change sets it; `change` sets what the new type needs (a selector and ports, or the externalName).
 */
export async function changeServiceType(
  cluster: Cluster,
  namespace: string,
  name: string,
  type: 'ClusterIP' | 'NodePort' | 'ExternalName',
  change: (spec: k8s.V1ServiceSpec) => void,
): Promise<k8s.V1Service> {
  const service = await cluster.kube.core.readNamespacedService({ namespace, name });
  service.spec!.type = type;
  change(service.spec!);
  if (type === 'ExternalName') assertInClusterName(service.spec!.externalName ?? '', cluster.domain);
  return cluster.kube.core.replaceNamespacedService({ namespace, name, body: service });
}
