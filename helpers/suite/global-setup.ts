// vitest globalSetup for the suites: asks the chosen provider for a cluster once per run,
// hands the specs a serialisable handle (inject('cluster')) and a run id, and at the end
// removes what this run made: a cluster it created, or the run's labelled objects.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { repoRoot } from '../config.js';
import { openSession, type Session } from './session.js';
import { newRunId } from './run-id.js';
import type { ClusterHandle } from '../cluster/provider.js';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterHandle;
    runId: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = process.env.SVC_RUN_ID || newRunId();
  project.provide('runId', runId);
  // `svc-conformance run` made (or attached to) the cluster already and tears it down itself.
  if (process.env.SVC_CLUSTER_HANDLE_FILE) {
    project.provide('cluster', JSON.parse(readFileSync(process.env.SVC_CLUSTER_HANDLE_FILE, 'utf8')) as ClusterHandle);
    return;
  }
  const session = await openSession(runId, console.log);
  project.provide('cluster', session.handle);
  const onSignal = () => removeNow(session);
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  return async () => {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await session.close();
  };
}

/**
 * vitest run directly (not through the CLI) and stopped by a signal: vitest exits a moment
 * after, without teardown, so the run's objects (or its cluster) are removed before this
 * handler returns, by the CLI in a child process.
 */
function removeNow(session: Session): void {
  const args = session.madeCluster
    ? ['cluster', 'down', '--name', session.handle.name]
    : ['cleanup', '--kubeconfig', session.handle.kubeconfig, '--run-id', session.runId];
  console.error(`svc-conformance: stopped; removing ${session.madeCluster ? `cluster ${session.handle.name}` : `the objects of run ${session.runId}`}`);
  spawnSync(process.execPath, [join(repoRoot, 'bin', 'svc-conformance.js'), ...args], { stdio: 'inherit', timeout: 120_000 });
}
