// A run stopped mid-spec removes what it made. SIGTERM on a run that made its own cluster:
// the whole cluster goes (state, netns, links, routes, nft table, cgroups, mounts,
// processes). SIGINT on a run against a kept cluster: its namespaces, its cluster-scoped
// objects and kube-proxy's rules for its Services go, and the cluster stays.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../helpers/kube/client.js';
import { waitFor } from '../helpers/kube/wait.js';
import { RUN_ID_LABEL } from '../helpers/cluster/run-id.js';
import { cliEnv, contextOf, keptCluster, KEPT, startCli, THROWAWAY } from './cli.js';
import { leftAfterRun, localClusterLeftovers, nodeRulesOf, runProcesses } from './leftovers.js';

/** Waits until the run has a spec namespace whose Service kube-proxy has programmed on node 1: mid-spec. */
async function waitUntilMidSpec(kubeconfig: string, netns: string, runId: string): Promise<string> {
  return waitFor(`a namespace of run ${runId} with kube-proxy rules in ${netns}`, 240_000, async () => {
    if (!existsSync(kubeconfig)) return { done: false, seen: 'no kubeconfig yet' };
    const namespaces = (
      await new Kube(kubeconfig).core.listNamespace({ labelSelector: `${RUN_ID_LABEL}=${runId}` })
    ).items.map((n) => n.metadata!.name!);
    for (const ns of namespaces) if ((await nodeRulesOf(netns, ns)).length) return { done: true, seen: ns, value: ns };
    return {
      done: false,
      seen: namespaces.length ? `namespaces ${namespaces.join(', ')}, no rules yet` : 'no namespace yet',
    };
  });
}

describe('a run stopped by a signal removes what it made', () => {
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = await keptCluster();
  });

  it('SIGTERM: a run that made its own cluster removes the whole cluster', async () => {
    const runId = 'rsigterm1';
    const { child, done } = startCli(
      ['run', '--provider', 'local', '--preset', 'quick', '--run-id', runId],
      cliEnv(THROWAWAY),
    );
    await waitUntilMidSpec(`/var/lib/svc-conformance/${THROWAWAY.name}/kubeconfig`, `svc-${THROWAWAY.name}-n1`, runId);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.exitCode, r.stderr).toBe(143);
    expect(r.stderr).toContain(
      `svc-conformance: stopped by SIGTERM; removed cluster ${THROWAWAY.name} (made for this run)`,
    );
    expect(await localClusterLeftovers(THROWAWAY)).toEqual([]);
    expect(runProcesses(runId)).toEqual([]);
  });

  it('SIGINT: a run on a kept cluster removes its namespaces, cluster-scoped objects and node rules', async () => {
    const kube = new Kube(kubeconfig);
    const runId = 'rsigint1';
    // Stands for a spec that makes a cluster-scoped object: labelled like everything a run makes.
    await kube.rbac.createClusterRole({
      body: { metadata: { name: `svc-conformance-${runId}`, labels: { [RUN_ID_LABEL]: runId } }, rules: [] },
    });
    const { child, done } = startCli(
      ['run', '--kubeconfig', kubeconfig, '--context', contextOf(kubeconfig), '--preset', 'quick', '--run-id', runId],
      cliEnv(KEPT),
    );
    const ns = await waitUntilMidSpec(kubeconfig, `svc-${KEPT.name}-n1`, runId);
    child.kill('SIGINT');
    const r = await done;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toContain(`svc-conformance: stopped by SIGINT; removed the objects of run ${runId}`);
    expect(await leftAfterRun(kubeconfig, runId)).toEqual([]);
    expect(runProcesses(runId)).toEqual([]);
    // kube-proxy drops a deleted Service's rules on its next sync.
    await waitFor(`kube-proxy rules of namespace ${ns} removed`, 30_000, async () => {
      const rules = await nodeRulesOf(`svc-${KEPT.name}-n1`, ns);
      return { done: rules.length === 0, seen: rules.slice(0, 3).join(' | ') };
    });
    expect((await kube.core.listNode()).items).toHaveLength(1); // the kept cluster is still there
  });
});
