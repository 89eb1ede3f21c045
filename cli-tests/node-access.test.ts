// --node-access on a cluster named by a kubeconfig, as a ServiceAccount bound to rbac/ only:
// `privileged-pod` runs the node-level checks (kube-proxy's health and rules, the VIP from
// the node) through one privileged pod per node, and the run's teardown removes those pods'
// namespace; `none` skips the same checks, each with the reason (kube-proxy's healthz is still
// asked from a hostNetwork pod), and waits for a new Service through its data path instead of
// kube-proxy's rules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../helpers/kube/client.js';
import { cliEnv, keptCluster, KEPT, runCli } from './cli.js';
import { leftAfterRun } from './leftovers.js';
import { shippedRoleKubeconfigFile } from './service-account.js';

const FOCUS = ['--focus', 'kube-proxy'];
/** The report's rows: section → result cell and notes cell. */
function rows(resultsDir: string): Record<string, { result: string; checks: string; notes: string }> {
  const report = readFileSync(join(resultsDir, 'report.md'), 'utf8');
  const table = report
    .split('\n')
    .filter((l) => /^\| .* \| `.*\.spec\.ts` \|/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()));
  return Object.fromEntries(table.map((c) => [c[1], { result: c[3], checks: c[5], notes: c[6] }]));
}

let kubeconfig: string, limited: string;
beforeAll(async () => {
  kubeconfig = await keptCluster();
  limited = await shippedRoleKubeconfigFile(new Kube(kubeconfig));
});

describe('run --kubeconfig --node-access', () => {
  it('privileged-pod: runs the node-level checks through one pod per node, then removes them', async () => {
    const env = cliEnv(KEPT);
    const r = await runCli(
      [
        'run',
        '--kubeconfig',
        limited,
        '--context',
        'svc-conformance',
        '--node-access',
        'privileged-pod',
        '--run-id',
        'rnodepod1',
        ...FOCUS,
      ],
      env,
    );
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/node access privileged-pod/);
    const report = rows(env.SVC_RESULTS!);
    expect(report['Is the kube-proxy working?']).toMatchObject({ result: '✅ pass', checks: '2/2' });
    expect(report['Is kube-proxy proxying?']).toMatchObject({ result: '✅ pass', checks: '2/2' });
    expect(report['Is kube-proxy writing iptables rules?']).toMatchObject({ result: '✅ pass', checks: '1/3' }); // nftables and ipvs twins skip
    expect(await leftAfterRun(kubeconfig, 'rnodepod1')).toEqual([]); // node-access-rnodepod1 went with the run
  });

  it('none: skips the same checks, each with the reason; Services are still waited for, through the data path', async () => {
    const env: NodeJS.ProcessEnv = { ...cliEnv(KEPT), SVC_TRACE: '1' };
    const r = await runCli(
      [
        'run',
        '--kubeconfig',
        limited,
        '--context',
        'svc-conformance',
        '--node-access',
        'none',
        '--focus',
        'kube-proxy|session affinity',
      ],
      env,
    );
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    // The kube-proxy sections skip whole; the data-path checks the focus also picks (opt-out labels, affinity) pass.
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);
    const why = 'skipped: no node access on this cluster (pass --node-access privileged-pod to allow it)';
    const report = rows(env.SVC_RESULTS!);
    for (const section of ['Is kube-proxy proxying?', 'Is kube-proxy writing iptables rules?']) {
      expect(report[section]).toMatchObject({ result: '⏭️ skip', notes: why });
    }
    // kube-proxy's health is asked from a hostNetwork pod, which needs no node access; its process check skips.
    expect(report['Is the kube-proxy working?']).toMatchObject({ result: '✅ pass', checks: '1/2' });
    expect(report['Is the kube-proxy working?'].notes).toContain(why);
    // Its rules cannot be read, so a new Service counts as ready once every backend answered on it (one, for ClientIP affinity).
    expect(report['Beyond the guide: session affinity']).toMatchObject({ result: '✅ pass' });
    expect(report['Beyond the guide: session affinity'].notes).toContain(why);
    expect(r.stdout + r.stderr).toMatch(
      /\[wait [\d.]+s\] every backend of affinity-\S+\/hostnames answering on its ClusterIP/,
    );
    expect(r.stdout + r.stderr).toMatch(
      /\[wait [\d.]+s\] every backend of affinity-\S+\/hostnames-sticky answering on its ClusterIP/,
    );
  });

  it('refuses an unknown kind of node access before touching the cluster', async () => {
    const r = await runCli(
      ['run', '--kubeconfig', limited, '--context', 'svc-conformance', '--node-access', 'root'],
      cliEnv(KEPT),
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'svc-conformance: unknown --node-access "root"; choose privileged-pod (one privileged pod per node, for the node-level checks) or none',
    ]);
  });
});
