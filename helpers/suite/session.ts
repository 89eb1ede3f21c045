// One run's cluster session: choose the provider, bring the cluster up (or attach), and
// later remove what the run made. The CLI and vitest's globalSetup both go through here.
import { chooseProvider } from '../cluster/choose.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { cleanupRun } from './cleanup.js';

export interface Session {
  handle: ClusterHandle;
  runId: string;
  /** Deletes the run's objects, and the cluster when it was made for this run alone. */
  close(): Promise<void>;
}

export async function openSession(runId: string, log: (line: string) => void): Promise<Session> {
  const choice = await chooseProvider();
  log(`svc-conformance: provider ${choice.provider.name} (${choice.reason}); run id ${runId}`);
  const started = Date.now();
  const handle = await choice.provider.up(choice.options);
  const c = handle.capabilities;
  log(`svc-conformance: cluster ${handle.name} ready in ${((Date.now() - started) / 1000).toFixed(1)}s (Kubernetes ${c.kubernetesVersion}, kube-proxy ${c.proxyMode}, ${handle.nodes.length} node(s))`);
  let closed = false;
  return {
    handle,
    runId,
    async close() {
      if (closed) return;
      closed = true;
      // A cluster made for this run goes whole; on a kept one, the run's objects are deleted and waited for.
      if (choice.destroyAfter) await choice.provider.down(handle.name);
      else await cleanupRun(handle, runId);
    },
  };
}
