// svc-conformance: the command line (DESIGN.md "Command-line contract").
//   run [--provider P] [--kubeconfig F] [--nodes N] [--proxy-mode M] [--focus RE] [--junit F]
//   test                       unit tests + every suite (what `npm test` runs)
//   cluster up|down [--provider local] [--name N] [--nodes N] [--proxy-mode M]
// Exit codes: 0 passed, 1 a check failed, 2 bad usage or no cluster (one line says why).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterOptionsFromEnv } from '../helpers/cluster/choose.js';
import { DEFAULT_LOCAL_NAME, LocalProvider } from '../helpers/cluster/local.js';
import { repoRoot, resultsDir } from '../helpers/config.js';
import { UsageError } from '../helpers/errors.js';
import { diagnoseService } from './diagnose.js';
import { addJunitProperties, clusterProperties } from '../helpers/report/junit-properties.js';
import { formatSpecList, listSpecs } from '../helpers/report/spec-list.js';
import { newRunId } from '../helpers/suite/run-id.js';
import { openSession, type Session } from '../helpers/suite/session.js';

const USAGE = `usage: svc-conformance <command>
  run [--provider local] [--nodes N] [--proxy-mode iptables|nftables] [--focus RE] [--skip RE] [--junit FILE] [--keep-cluster]
  test [--selftest]             unit tests and every suite on a throwaway cluster (npm test);
                                with --selftest (default when CI=true) also the fault self-test
  list                          every spec and check, with the guide section it covers
  diagnose NAMESPACE/SERVICE --kubeconfig FILE [--context NAME]   the guide's checklist on your Service
  cluster up [--provider local] [--name N] [--nodes N] [--proxy-mode M]   prints the kubeconfig path
  cluster down [--name N]`;

const OPTIONS = {
  provider: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  nodes: { type: 'string' },
  'proxy-mode': { type: 'string' },
  name: { type: 'string' },
  focus: { type: 'string' },
  skip: { type: 'string' },
  junit: { type: 'string' },
  'keep-cluster': { type: 'boolean' },
  selftest: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (values.help || positionals.length === 0) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    applyToEnv(values);
    const [command, sub] = positionals;
    switch (command) {
      case 'run':
        return await runTests(['--project', 'suites', ...testNameFilter(values.focus, values.skip)], values.junit);
      case 'test':
        return await runTests([], values.junit, process.env.CI === 'true' || !!values.selftest);
      case 'diagnose':
        return await diagnoseService(sub, values.kubeconfig ?? process.env.SVC_KUBECONFIG, values.context);
      case 'list':
        console.log(formatSpecList(listSpecs(join(repoRoot, 'suites'))));
        return 0;
      case 'cluster':
        return await cluster(sub, values.provider, values.name);
      default:
        throw new UsageError(`unknown command "${command}"; run svc-conformance --help`);
    }
  } catch (error) {
    return fail(error);
  }
}

/**
 * vitest's -t takes one pattern, matched against each check's full name ("section check");
 * --focus and --skip become one regex: names matching FOCUS and not matching SKIP.
 */
export function testNameFilter(focus?: string, skip?: string): string[] {
  for (const [flag, re] of [['--focus', focus], ['--skip', skip]] as const) {
    if (re === undefined) continue;
    try {
      new RegExp(re);
    } catch (error) {
      throw new UsageError(`${flag} "${re}" is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  if (!focus && !skip) return [];
  return ['-t', `^${skip ? `(?!.*(?:${skip}))` : ''}${focus ? `(?=.*(?:${focus}))` : ''}`];
}

/** Every cluster option travels as an SVC_* variable, so vitest's workers see the same. */
function applyToEnv(values: { provider?: string; kubeconfig?: string; context?: string; nodes?: string; 'proxy-mode'?: string; name?: string; 'keep-cluster'?: boolean }): void {
  const set = (key: string, value: string | undefined) => value !== undefined && (process.env[key] = value);
  set('SVC_PROVIDER', values.provider);
  set('SVC_KUBECONFIG', values.kubeconfig);
  set('SVC_CONTEXT', values.context);
  set('SVC_NODES', values.nodes);
  set('SVC_PROXY_MODE', values['proxy-mode']);
  set('SVC_CLUSTER_NAME', values.name);
  if (values['keep-cluster']) process.env.SVC_KEEP_CLUSTER = '1';
  clusterOptionsFromEnv(); // validates now, so bad values end here with exit 2
}

async function cluster(action: string | undefined, provider = 'local', name = DEFAULT_LOCAL_NAME): Promise<number> {
  if (provider !== 'local') throw new UsageError(`cluster ${action ?? ''}: provider "${provider}" is not available in this version; use --provider local`);
  const local = new LocalProvider();
  if (action === 'up') {
    const started = Date.now();
    const handle = await wrapClusterError(local.up({ ...clusterOptionsFromEnv(), name }));
    console.error(`cluster ${handle.name}: ${handle.nodes.length} node(s) Ready, DNS answering, in ${((Date.now() - started) / 1000).toFixed(1)}s (kube-proxy ${handle.capabilities.proxyMode})`);
    console.log(handle.kubeconfig);
    return 0;
  }
  if (action === 'down') {
    const started = Date.now();
    await local.down(name);
    console.error(`cluster ${name}: removed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return 0;
  }
  throw new UsageError(`cluster needs "up" or "down", not "${action ?? ''}"`);
}

/** Brings the cluster up here (exit 2 if that fails), runs vitest against it, then cleans up, on signals too. */
async function runTests(vitestArgs: string[], junit: string | undefined, selftest = false): Promise<number> {
  const runId = process.env.SVC_RUN_ID || newRunId();
  const session = await wrapClusterError(openSession(runId, (line) => console.error(line)));
  mkdirSync(resultsDir, { recursive: true });
  rmSync(join(resultsDir, 'summary.json'), { force: true });
  const handleFile = join(resultsDir, 'cluster.json');
  writeFileSync(handleFile, JSON.stringify(session.handle, null, 2));
  const env = { ...process.env, SVC_RUN_ID: runId, SVC_CLUSTER_HANDLE_FILE: handleFile, ...(junit ? { SVC_JUNIT: junit } : {}) };
  const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', ...vitestArgs], { cwd: repoRoot, env, stdio: 'inherit' });
  const stop = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', stop).on('SIGTERM', stop);
  const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 130 : 1))));
  process.off('SIGINT', stop).off('SIGTERM', stop);
  await closeQuietly(session);
  addJunitProperties(junit ?? join(resultsDir, 'junit.xml'), clusterProperties(session.handle, runId));
  const faults = selftest ? await runSelftest() : { passed: 0, failed: 0 };
  printClosingLine(code, faults);
  return code === 0 && faults.failed === 0 ? 0 : 1;
}

/** npm run selftest, counted as one check per fault: detected, right cause, green after undo. */
async function runSelftest(): Promise<{ passed: number; failed: number }> {
  rmSync(join(resultsDir, 'selftest.json'), { force: true }); // a crashed self-test must not read an old result
  const tsx = join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, join(repoRoot, 'bench', 'selftest.ts')], { cwd: repoRoot, stdio: 'inherit' });
  await new Promise((resolve) => child.on('exit', resolve));
  try {
    const { outcomes } = JSON.parse(readFileSync(join(resultsDir, 'selftest.json'), 'utf8')) as { outcomes: { detected: boolean; rightCause: boolean; greenAfterUndo: boolean }[] };
    const ok = outcomes.filter((o) => o.detected && o.rightCause && o.greenAfterUndo).length;
    return { passed: ok, failed: outcomes.length - ok };
  } catch {
    return { passed: 0, failed: 1 };
  }
}

/** `N passed, N failed, N skipped`, alone on the last line, from the summary reporter's totals. */
function printClosingLine(vitestExit: number, extra = { passed: 0, failed: 0 }): void {
  let totals = { passed: 0, failed: 0, skipped: 0 };
  try {
    totals = JSON.parse(readFileSync(join(resultsDir, 'summary.json'), 'utf8'));
  } catch {
    // vitest ended before reporting (e.g. a config error): count the run as one failure.
  }
  const failed = totals.failed || (vitestExit !== 0 ? 1 : 0);
  console.log(`${totals.passed + extra.passed} passed, ${failed + extra.failed} failed, ${totals.skipped} skipped`);
}

async function closeQuietly(session: Session): Promise<void> {
  try {
    await session.close();
  } catch (error) {
    console.error(`svc-conformance: cleanup after the run failed: ${(error as Error).message}`);
  }
}

/** A cluster that cannot be made or reached is exit 2, not a test failure. */
async function wrapClusterError<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message, { cause: error });
  }
}

function fail(error: unknown): number {
  if (error instanceof UsageError) {
    console.error(`svc-conformance: ${error.message.split('\n')[0]}`);
    if (process.env.SVC_DEBUG && error.cause) console.error(error.cause);
    return 2;
  }
  console.error(error);
  return 1;
}
