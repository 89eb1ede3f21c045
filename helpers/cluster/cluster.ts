// The cluster as a spec, a helper or the CLI's diagnose uses it: the provider's handle, a
// client, the run id that labels everything the run makes, and the run's settings.
import { Kube } from '../kube/client.js';
import type { Settings } from '../settings.js';
import type { ClusterHandle } from './provider.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from './run-id.js';

/** The labels that make a namespace enforce (and warn about) Pod Security "restricted". */
export const RESTRICTED_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};

export interface Cluster extends ClusterHandle {
  kube: Kube;
  runId: string;
  settings: Settings;
  /** The cluster's DNS domain (cluster.local unless the cluster says otherwise). */
  domain: string;
  /** Creates one more namespace of this run (deleted with the run). */
  namespace(prefix: string): Promise<string>;
}

export function clusterFromHandle(handle: ClusterHandle, runId: string, settings: Settings): Cluster {
  // Made on first use: `svc-conformance list` collects the specs' names against a cluster that does not exist.
  let kube: Kube | undefined;
  const client = () => (kube ??= new Kube(handle.kubeconfig));
  return {
    ...handle,
    get kube() {
      return client();
    },
    runId,
    settings,
    domain: handle.capabilities.clusterDomain,
    namespace: async (prefix) => createNamespace(client(), namespaceName(prefix, runId), runId),
  };
}

export function namespaceName(prefix: string, runId: string): string {
  return `${prefix}-${runId}`;
}

/** A namespace of the run: labelled with its id, Pod Security restricted (every pod of the suites passes it). */
export async function createNamespace(kube: Kube, name: string, runId: string): Promise<string> {
  await kube.core.createNamespace({
    body: {
      metadata: {
        name,
        labels: { [RUN_ID_LABEL]: runId, ...RESTRICTED_NAMESPACE_LABELS },
        annotations: { [CREATED_AT_ANNOTATION]: new Date().toISOString() },
      },
    },
  });
  return name;
}
