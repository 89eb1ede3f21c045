// The quick preset on a warm cluster, end to end, as a ServiceAccount bound to rbac/ only: exit 0, its five guide sections in
// test-results/report.md, and nothing of the run left afterwards. Then `cleanup` finds a
// dead run's leftovers by label (a namespace and a cluster-scoped object), spares them
// while they are younger than --older-than, and removes them without it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../helpers/kube/client.js';
import { CREATED_AT_ANNOTATION, RUN_ID_LABEL } from '../helpers/cluster/run-id.js';
import { cliEnv, keptCluster, KEPT, runCli } from './cli.js';
import { shippedRoleKubeconfigFile } from './service-account.js';
import { leftAfterRun, runObjects } from './leftovers.js';

let kubeconfig: string, limited: string;
beforeAll(async () => {
  kubeconfig = await keptCluster();
  limited = await shippedRoleKubeconfigFile(new Kube(kubeconfig));
});

describe('svc-conformance run --preset quick', () => {
  it('passes the five quick sections as a user bound to rbac/ only, writes report.md, and leaves nothing behind', async () => {
    const env = cliEnv(KEPT);
    const r = await runCli(
      ['run', '--kubeconfig', limited, '--context', 'svc-conformance', '--preset', 'quick', '--run-id', 'rquick1'],
      env,
    );
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^\d+ passed, 0 failed, 0 skipped$/);
    const report = readFileSync(join(env.SVC_RESULTS!, 'report.md'), 'utf8');
    expect(report).toMatch(/^# svc-conformance: \d+ passed, 0 failed, 0 skipped\n/);
    expect(report).toContain(`run id \`rquick1\` · preset quick`);
    const rows = report.split('\n').filter((l) => /^\| .* \| `.*\.spec\.ts` \|/.test(l));
    expect(rows.map((l) => l.split('|')[2].trim())).toEqual([
      '`clusterip.spec.ts`',
      '`dns.spec.ts`',
      '`endpoints.spec.ts`',
      '`service-exists.spec.ts`',
      '`setup.spec.ts`',
    ]);
    expect(rows.every((l) => l.includes('✅ pass'))).toBe(true);
    expect(await leftAfterRun(kubeconfig, 'rquick1')).toEqual([]);
    console.log(`quick preset on warm cluster ${KEPT.name}: ${(r.durationMs / 1000).toFixed(1)}s end to end`);
  });
});

describe('svc-conformance cleanup', () => {
  it("removes a dead run's namespace and cluster-scoped object, sparing them while younger than --older-than", async () => {
    const kube = new Kube(kubeconfig);
    const env = cliEnv(KEPT);
    const runId = 'rdead1';
    const metadata = (name: string) => ({
      name,
      labels: { [RUN_ID_LABEL]: runId },
      annotations: { [CREATED_AT_ANNOTATION]: new Date().toISOString() },
    });
    await kube.core.createNamespace({ body: { metadata: metadata(`dns-${runId}`) } });
    await kube.rbac.createClusterRoleBinding({
      body: {
        metadata: metadata(`svc-conformance-${runId}`),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [],
      },
    });
    const left = [`ClusterRoleBinding/svc-conformance-${runId}`, `Namespace/dns-${runId}`];

    const young = await runCli(['cleanup', '--kubeconfig', kubeconfig, '--older-than', '1h'], env);
    expect(young.exitCode, young.stderr).toBe(0);
    expect(young.stdout).toContain(`nothing to clean up: no objects labelled ${RUN_ID_LABEL} older than 1h`);
    expect(await runObjects(kubeconfig, runId)).toEqual(left);

    const all = await runCli(['cleanup', '--kubeconfig', kubeconfig], env);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`run ${runId} \\(started \\d+s ago\\): .*Namespace/dns-${runId}`));
    expect(all.stdout).toContain('removed 2 object(s) of 1 run(s)');
    expect(await runObjects(kubeconfig, runId)).toEqual([]);
  });
});
