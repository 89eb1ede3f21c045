// Deletes what one run made in a cluster: every namespace and cluster-scoped object
// labelled with its run id. Waits until the namespaces are gone.
import { Kube } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { RUN_ID_LABEL } from './run-id.js';

export async function cleanupRun(handle: ClusterHandle, runId: string, budgetMs = 60_000): Promise<void> {
  const kube = new Kube(handle.kubeconfig);
  const selector = `${RUN_ID_LABEL}=${runId}`;
  const namespaces = await kube.core.listNamespace({ labelSelector: selector });
  for (const ns of namespaces.items) await kube.deleteIfPresent({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.metadata!.name } });
  await waitFor(`namespaces of run ${runId} deleted`, budgetMs, async () => {
    const left = await kube.core.listNamespace({ labelSelector: selector });
    return { done: left.items.length === 0, seen: left.items.map((n) => `${n.metadata?.name} (${n.status?.phase})`).join(', ') };
  });
}
