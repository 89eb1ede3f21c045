// vitest globalSetup for the suites: asks the chosen provider for a cluster once per run,
// hands the specs a serialisable handle (inject('cluster')) and a run id, and at the end
// removes what this run made: a cluster it created, or the run's labelled objects.
import { readFileSync } from 'node:fs';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { openSession } from './session.js';
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
  return () => session.close();
}
