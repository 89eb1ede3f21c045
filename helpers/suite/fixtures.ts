// What a spec stands on: useCluster() (the handle globalSetup injected, with a client and the
// run's settings) and useNamespace(prefix) (created before the file's tests, deleted after,
// labelled with the run id so cleanup finds it even when the run is killed).
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { deleteNamespaceNow } from '../cluster/cleanup.js';
import { clusterFromHandle, createNamespace, namespaceName, type Cluster } from '../cluster/cluster.js';
import { isNotFound } from '../kube/client.js';
import { traceWaits } from '../kube/wait.js';
import { notePhase, recordPhasesTo, timePhase } from '../host/phases.js';
import type { ClusterHandle } from '../cluster/provider.js';
import type { Settings } from '../settings.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterHandle;
    runId: string;
    settings: Settings;
  }
}

export type { Cluster };

export function useCluster(): Cluster {
  const settings = inject('settings');
  traceWaits(settings.trace);
  recordPhasesTo(settings.phasesFile);
  return clusterFromHandle(inject('cluster'), inject('runId'), settings);
}

export function useNamespace(prefix: string): string {
  const cluster = useCluster();
  const name = namespaceName(prefix, cluster.runId);
  beforeAll(() => timePhase('namespaces', name, () => createNamespace(cluster.kube, name, cluster.runId)));
  beforeEach(() => {
    const started = Date.now();
    return () => notePhase('checks', started, Date.now(), name);
  });
  // eslint-disable-next-line no-empty-pattern
  afterAll(async ({}, suite) => {
    // A failed spec keeps its namespace until the run's teardown: its diagnosis must still find its pods.
    if (hasFailure(suite as unknown as TaskLike)) return;
    await timePhase('teardown', name, () =>
      deleteNamespaceNow(cluster.kube, name).catch((error) => {
        if (!isNotFound(error)) throw error;
      }),
    );
  });
  return name;
}

export interface TaskLike {
  type?: string;
  result?: { state?: string; errors?: unknown[] };
  tasks?: TaskLike[];
}

export function hasFailure(task: TaskLike): boolean {
  return (task.result?.errors?.length ?? 0) > 0 || task.result?.state === 'fail' || (task.tasks ?? []).some(hasFailure);
}

/** Skips every test of the enclosing describe with `reason` (which the reports show), when there is one. */
export function skipAllWith(reason: string | undefined): void {
  if (reason) beforeEach(({ skip }) => skip(reason));
}
