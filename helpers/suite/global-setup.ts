// vitest globalSetup for the suites: reads the run's settings, asks the chosen provider for a
// cluster once per run, hands the specs a serialisable handle, the run id and the settings
// (inject), and at the end removes what this run made: a cluster it created, or the run's
// labelled objects.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { newRunId } from '../cluster/run-id.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { repoRoot } from '../config.js';
import { readSettings } from '../settings.js';
import type {} from './fixtures.js';
import { openSession, type Session } from './session.js';

export default async function setup(project: TestProject) {
  const settings = readSettings();
  const runId = settings.run.runId || newRunId();
  project.provide('runId', runId);
  project.provide('settings', settings);
  // `svc-conformance run` made (or attached to) the cluster already and tears it down itself.
  if (settings.run.clusterHandleFile) {
    project.provide('cluster', JSON.parse(readFileSync(settings.run.clusterHandleFile, 'utf8')) as ClusterHandle);
    return;
  }
  const session = await openSession(runId, settings, console.log);
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
    ? ['cluster', 'down', '--provider', session.handle.provider, '--name', session.handle.name]
    : ['cleanup', '--kubeconfig', session.handle.kubeconfig, '--run-id', session.runId];
  const what = session.madeCluster ? `cluster ${session.handle.name}` : `the objects of run ${session.runId}`;
  console.error(`svc-conformance: stopped; removing ${what}`);
  const cli = join(repoRoot, 'bin', 'svc-conformance.js');
  spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', timeout: 120_000 });
}
