// One run's cluster session: choose the provider, bring the cluster up (or attach), and
// later remove what the run made. The CLI and vitest's globalSetup both go through here.
import { cleanupRun } from '../cluster/cleanup.js';
import type { ClusterHandle } from '../cluster/provider.js';
import { chooseProvider } from '../cluster/providers.js';
import { namespacesOfRunId } from '../cluster/run-id.js';
import { UsageError } from '../errors.js';
import { Kube } from '../kube/client.js';
import { applyNodeAccess } from '../node/node-access.js';
import type { Settings } from '../settings.js';

export interface Session {
  handle: ClusterHandle;
  runId: string;
  /** The cluster was made for this run alone and goes with it. */
  madeCluster: boolean;
  /** Deletes the run's objects, and the cluster when it was made for this run alone. */
  close(): Promise<void>;
}

export async function openSession(runId: string, settings: Settings, log: (line: string) => void): Promise<Session> {
  const choice = await chooseProvider(settings);
  log(`svc-conformance: provider ${choice.provider.name} (${choice.reason}); run id ${runId}`);
  const started = Date.now();
  const made = await choice.provider.up(choice.options);
  let closed = false;
  const session: Session = {
    handle: made,
    runId,
    madeCluster: choice.destroyAfter,
    async close() {
      if (closed) return;
      closed = true;
      // A cluster made for this run goes whole; on a kept one, the run's objects are deleted and waited for.
      if (choice.destroyAfter) await choice.provider.down(made.name);
      else await cleanupRun(made, runId);
    },
  };
  // A run id whose namespaces exist already belongs to another run: refuse it, and leave those alone.
  const clash = choice.destroyAfter ? [] : await namespacesOfRunId(new Kube(made.kubeconfig), runId);
  if (clash.length) {
    closed = true;
    throw new UsageError(
      `run id ${runId} is in use on cluster ${made.name}: namespace(s) ${clash.join(', ')} exist already; start without --run-id for a fresh one, or remove a dead run's leftovers with svc-conformance cleanup --kubeconfig ${made.kubeconfig}`,
    );
  }
  // --node-access privileged-pod starts its pods now, as objects of this run (removed with it).
  try {
    session.handle = await applyNodeAccess(made, runId, settings);
  } catch (error) {
    await session.close(); // a refused node-access pod leaves nothing behind
    throw error;
  }
  const h = session.handle;
  const c = h.capabilities;
  const took = ((Date.now() - started) / 1000).toFixed(1);
  log(
    `svc-conformance: cluster ${h.name} ready in ${took}s (Kubernetes ${c.kubernetesVersion}, kube-proxy ${c.proxyMode}, CNI ${c.cni}, ${h.nodes.length} node(s), node access ${h.nodeAccess})`,
  );
  return session;
}
