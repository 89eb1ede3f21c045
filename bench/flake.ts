// npm run flake -- [RUNS] [--config NAME ...]: the full suite RUNS times (default 20) on each
// configuration users run, one healthy cluster per configuration that stays up between its runs;
// every failure is listed by check and message. test-results/flake.json says per configuration
// how many runs and which checks failed. Goal: 0 failed runs. Configurations: local-1-iptables,
// local-1-nftables, local-2-iptables, local-2-nftables and kind-2-iptables (all by default; the
// kind one is skipped, with the reason, where no Docker engine answers).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireDocker } from '../helpers/cluster/container-nodes.js';
import { providerNamed } from '../helpers/cluster/providers.js';
import { repoRoot } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { childEnv, readSettings, type ProxyMode } from '../helpers/settings.js';

interface Configuration {
  name: string;
  /** The local cluster's name (1-8 characters), or the kind cluster's. */
  cluster: string;
  provider: 'local' | 'kind';
  nodes: number;
  proxyMode: ProxyMode;
}

const CONFIGURATIONS: Configuration[] = [
  { name: 'local-1-iptables', cluster: 'flk1i', provider: 'local', nodes: 1, proxyMode: 'iptables' },
  { name: 'local-1-nftables', cluster: 'flk1n', provider: 'local', nodes: 1, proxyMode: 'nftables' },
  { name: 'local-2-iptables', cluster: 'flk2i', provider: 'local', nodes: 2, proxyMode: 'iptables' },
  { name: 'local-2-nftables', cluster: 'flk2n', provider: 'local', nodes: 2, proxyMode: 'nftables' },
  { name: 'kind-2-iptables', cluster: 'svc-flake', provider: 'kind', nodes: 2, proxyMode: 'iptables' },
];

interface RunResult {
  run: number;
  seconds: number;
  summary: string;
  failures: { check: string; message: string }[];
}

interface ConfigurationResult {
  runs: number;
  failedRuns: number;
  skipped?: string;
  failedChecks: Record<string, number>;
  results: RunResult[];
}

const { values, positionals } = parseArgs({
  options: { config: { type: 'string', multiple: true } },
  allowPositionals: true,
});
const runs = Number(positionals[0] ?? 20);
const unknown = (values.config ?? []).filter((c) => !CONFIGURATIONS.some((k) => k.name === c));
if (!Number.isInteger(runs) || runs < 1 || unknown.length) {
  console.error(
    `flake: ${unknown.length ? `unknown configuration ${unknown.join(', ')}` : `"${positionals[0]}" is not a run count`}; usage: npm run flake -- [RUNS] [--config ${CONFIGURATIONS.map((c) => c.name).join('|')}]...`,
  );
  process.exit(2);
}
const chosen = CONFIGURATIONS.filter((c) => !values.config || values.config.includes(c.name));
const settings = readSettings();
const cli = join(repoRoot, 'bin', 'svc-conformance.js');
const file = join(settings.resultsDir, 'flake.json');
const report: Record<string, ConfigurationResult> = {};

for (const config of chosen) {
  report[config.name] = await flake(config);
  mkdirSync(settings.resultsDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ runsPerConfiguration: runs, configurations: report }, null, 2)}\n`);
}
for (const [name, r] of Object.entries(report)) {
  const what = r.skipped ? `skipped: ${r.skipped}` : `${r.runs - r.failedRuns} of ${r.runs} runs green`;
  console.log(
    `${name}: ${what}${Object.keys(r.failedChecks).length ? `; failed: ${JSON.stringify(r.failedChecks)}` : ''}`,
  );
}
console.log(`written to ${file}`);

async function flake(config: Configuration): Promise<ConfigurationResult> {
  const empty = { runs: 0, failedRuns: 0, failedChecks: {}, results: [] };
  if (config.provider === 'kind') {
    const noDocker = await requireDocker('kind').then(
      () => undefined,
      (error: Error) => error.message,
    );
    if (noDocker) return { ...empty, skipped: noDocker };
  }
  const flags = ['--provider', config.provider, '--proxy-mode', config.proxyMode, '--name', config.cluster];
  const kind = config.provider === 'kind' ? ['--kind-config', 'two-node'] : ['--nodes', String(config.nodes)];
  const results: RunResult[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const out = join(settings.resultsDir, 'flake', config.name, `run-${i}`);
      const env = childEnv({ SVC_RESULTS: out });
      const started = performance.now();
      const result = await run(process.execPath, [cli, 'run', ...flags, ...kind, '--keep-cluster'], {
        env,
        allowFailure: true,
        timeoutMs: 900_000,
      });
      const seconds = +((performance.now() - started) / 1000).toFixed(1);
      const summary = result.stdout.trim().split('\n').at(-1) ?? '';
      results.push({ run: i, seconds, summary, failures: failuresIn(join(out, 'results.json')) });
      const failed = results
        .at(-1)!
        .failures.map((f) => `\n  ✗ ${f.check}: ${f.message}`)
        .join('');
      console.log(`${config.name} run ${i}/${runs}: ${summary} (${seconds}s)${failed}`);
    }
  } finally {
    const provider = await providerNamed(config.provider, readSettings(childEnv({ SVC_KIND_CONFIG: 'two-node' })));
    await provider.down(config.cluster);
  }
  const failedRuns = results.filter((r) => r.failures.length > 0 || !/ 0 failed/.test(r.summary));
  const failedChecks: Record<string, number> = {};
  for (const f of results.flatMap((r) => r.failures)) failedChecks[f.check] = (failedChecks[f.check] ?? 0) + 1;
  return { runs: results.length, failedRuns: failedRuns.length, failedChecks, results };
}

/** The failed checks of one run, from vitest's JSON report. */
function failuresIn(path: string): RunResult['failures'] {
  try {
    const vitest = JSON.parse(readFileSync(path, 'utf8')) as {
      testResults: {
        assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
        message?: string;
        name: string;
      }[];
    };
    return vitest.testResults.flatMap((f) => [
      ...f.assertionResults
        .filter((a) => a.status === 'failed')
        .map((a) => ({ check: a.fullName, message: (a.failureMessages[0] ?? '').split('\n')[0] })),
      ...(f.message ? [{ check: f.name, message: f.message.split('\n')[0] }] : []),
    ]);
  } catch {
    return [{ check: '(no report)', message: `${path} missing: vitest did not finish` }];
  }
}
