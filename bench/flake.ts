// npm run flake -- [runs]: the full suite N times (default 20) on one healthy cluster that
// stays up between runs; every failure is listed by check and message, and the tally goes
// to test-results/flake.json. Goal: 0 failed runs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalProvider } from '../helpers/cluster/local.js';
import { repoRoot } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { childEnv, readSettings } from '../helpers/settings.js';

interface RunResult {
  run: number;
  seconds: number;
  summary: string;
  failures: { check: string; message: string }[];
}

const runs = Number(process.argv[2] ?? 20);
const settings = readSettings();
const resultsDir = settings.resultsDir;
const name = settings.run.clusterName || 'flake';
const cli = join(repoRoot, 'bin', 'svc-conformance.js');
const results: RunResult[] = [];

try {
  for (let i = 1; i <= runs; i++) {
    const out = join(resultsDir, 'flake', `run-${i}`);
    const env = childEnv({ SVC_CLUSTER_NAME: name, SVC_KEEP_CLUSTER: '1', SVC_RESULTS: out });
    const started = performance.now();
    const result = await run(process.execPath, [cli, 'run'], { env, allowFailure: true, timeoutMs: 900_000 });
    const seconds = +((performance.now() - started) / 1000).toFixed(1);
    const summary = result.stdout.trim().split('\n').at(-1) ?? '';
    results.push({ run: i, seconds, summary, failures: failuresIn(join(out, 'results.json')) });
    console.log(
      `run ${i}/${runs}: ${summary} (${seconds}s)${results
        .at(-1)!
        .failures.map((f) => `\n  ✗ ${f.check}: ${f.message}`)
        .join('')}`,
    );
  }
} finally {
  await new LocalProvider(settings).down(name);
}

const failed = results.filter((r) => r.failures.length > 0 || !/ 0 failed/.test(r.summary));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'flake.json'),
  `${JSON.stringify({ runs, failedRuns: failed.length, results }, null, 2)}\n`,
);
console.log(`${runs - failed.length} of ${runs} runs green; ${failed.length} with failures (test-results/flake.json)`);

/** The failed checks of one run, from vitest's JSON report. */
function failuresIn(file: string): RunResult['failures'] {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8')) as {
      testResults: {
        assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
        message?: string;
        name: string;
      }[];
    };
    return report.testResults.flatMap((f) => [
      ...f.assertionResults
        .filter((a) => a.status === 'failed')
        .map((a) => ({ check: a.fullName, message: (a.failureMessages[0] ?? '').split('\n')[0] })),
      ...(f.message ? [{ check: f.name, message: f.message.split('\n')[0] }] : []),
    ]);
  } catch {
    return [{ check: '(no report)', message: `${file} missing: vitest did not finish` }];
  }
}
