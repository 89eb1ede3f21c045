// A cluster you bring has no client outside its nodes: the checks that need none still run there
// (externalIPs from a pod and in the nodes' rules, externalTrafficPolicy Local's external chain),
// and only those that send from outside skip, with the reason. The kept local cluster stands in for
// yours: the run talks to its API server at 127.0.0.1 from inside its first node's network namespace,
// an address the local provider did not record, so it attaches as to any cluster (no outside client).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/config.js';
import { CLI, cliEnv, contextOf, keptCluster, KEPT, type CliResult } from './cli.js';

/** The command, run inside a network namespace (`ip netns exec`), with exactly `env`. */
function runCliIn(netns: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const started = Date.now();
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, CLI, ...args], { cwd: repoRoot, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (exitCode, signal) =>
      resolve({ exitCode, signal, stdout, stderr, durationMs: Date.now() - started }),
    ),
  );
}

/** Each check of the run's JSON report by its full name: passed, skipped or failed. */
function statesOf(resultsDir: string): Record<string, string> {
  const report = JSON.parse(readFileSync(join(resultsDir, 'results.json'), 'utf8')) as {
    testResults: { assertionResults: { fullName: string; status: string }[] }[];
  };
  return Object.fromEntries(report.testResults.flatMap((f) => f.assertionResults.map((a) => [a.fullName, a.status])));
}

describe('a cluster without an outside client', () => {
  it('runs the externalIPs and externalTrafficPolicy checks that need none, and skips only those sent from outside', async () => {
    const kubeconfig = await keptCluster();
    const yours = join(mkdtempSync(join(tmpdir(), 'svc-yours-')), 'kubeconfig');
    writeFileSync(
      yours,
      readFileSync(kubeconfig, 'utf8').replace(/server: https:\/\/\S+/, 'server: https://127.0.0.1:6443'),
    );
    const env = cliEnv(KEPT);
    const r = await runCliIn(
      `svc-${KEPT.name}-n1`,
      [
        'run',
        '--kubeconfig',
        yours,
        '--context',
        contextOf(kubeconfig),
        '--node-access',
        'privileged-pod',
        '--focus',
        'Beyond the guide: (externalIPs|externalTrafficPolicy) ',
      ],
      env,
    );
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/the existing provider has no client outside the cluster's nodes to send from/);
    const states = statesOf(env.SVC_RESULTS!);
    expect(states).toMatchObject({
      'Beyond the guide: externalIPs is answered from a pod': 'passed',
      'Beyond the guide: externalIPs kube-proxy writes the external IP rule on every node': 'passed',
      'Beyond the guide: externalTrafficPolicy Local: kube-proxy does not masquerade outside traffic for the Service':
        'passed',
      'Beyond the guide: externalTrafficPolicy Local keeps the client address: the backend sees the outside client itself':
        'skipped',
    });
  });
});
