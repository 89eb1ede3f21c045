// What a spec stands on: useCluster() (the handle globalSetup injected, plus a client) and
// useNamespace(prefix) (created before the file's tests, deleted after, labelled with the
// run id so cleanup finds it even when the run is killed).
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { isNotFound, Kube } from '../kube/client.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { RESTRICTED_NAMESPACE_LABELS } from '../workloads/security.js';
import { deleteNamespaceNow } from './cleanup.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from './run-id.js';

export interface Cluster extends ClusterHandle {
  kube: Kube;
  runId: string;
  /** The cluster's DNS domain (cluster.local unless the cluster says otherwise). */
  domain: string;
  /** Creates one more namespace of this run (deleted with the run). */
  namespace(prefix: string): Promise<string>;
}

export function useCluster(): Cluster {
  return clusterFromHandle(inject('cluster'), inject('runId'));
}

/** The same thing outside vitest (the CLI's diagnose): a handle and a run id. */
export function clusterFromHandle(handle: ClusterHandle, runId: string): Cluster {
  const kube = new Kube(handle.kubeconfig);
  return {
    ...handle,
    kube,
    runId,
    domain: handle.capabilities.clusterDomain,
    namespace: async (prefix) => createNamespace(kube, namespaceName(prefix, runId), runId),
  };
}

export function useNamespace(prefix: string): string {
  const cluster = useCluster();
  const name = namespaceName(prefix, cluster.runId);
  beforeAll(() => createNamespace(cluster.kube, name, cluster.runId));
  // eslint-disable-next-line no-empty-pattern
  afterAll(async ({}, suite) => {
    // A failed spec keeps its namespace until the run's teardown: the diagnosis (a file-level
    // hook, after this one) must still find its pods.
    if (hasFailure(suite as unknown as TaskLike)) return;
    await deleteNamespaceNow(cluster.kube, name).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  });
  return name;
}

interface TaskLike {
  type?: string;
  result?: { state?: string; errors?: unknown[] };
  tasks?: TaskLike[];
}

function hasFailure(task: TaskLike): boolean {
  return (task.result?.errors?.length ?? 0) > 0 || task.result?.state === 'fail' || (task.tasks ?? []).some(hasFailure);
}

export function namespaceName(prefix: string, runId: string): string {
  return `${prefix}-${runId}`;
}

export async function createNamespace(kube: Kube, name: string, runId: string): Promise<string> {
  await kube.core.createNamespace({
    body: {
      // Pod Security restricted: what a locked-down cluster enforces; every pod of the suites passes it.
      metadata: { name, labels: { [RUN_ID_LABEL]: runId, ...RESTRICTED_NAMESPACE_LABELS }, annotations: { [CREATED_AT_ANNOTATION]: new Date().toISOString() } },
    },
  });
  return name;
}

/** Skips every test of the enclosing describe with `reason` (which the reports show), when there is one. */
export function skipAllWith(reason: string | undefined): void {
  if (reason) beforeEach(({ skip }) => skip(reason));
}
