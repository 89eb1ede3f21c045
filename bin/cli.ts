// svc-conformance: the command line.
//   run [--provider P] [--kubeconfig F] [--preset quick|full] [--focus RE] [--skip RE] ...
//   test, list, diagnose NS/SERVICE, cleanup --kubeconfig F, cluster up|down
// Exit codes: 0 passed, 1 a check failed, 2 bad usage or no cluster (one line says why);
// a run stopped by SIGINT/SIGTERM removes what it made and exits 130/143.
// The flags become SVC_* variables of this process's settings (helpers/settings.ts) and of
// the vitest it starts, so both read the same settings.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiMessage } from '../helpers/cluster/attach.js';
import { newRunId, checkRunId } from '../helpers/cluster/run-id.js';
import { clusterOptions, providerNamed } from '../helpers/cluster/providers.js';
import { repoRoot, toolEntry } from '../helpers/config.js';
import { UsageError } from '../helpers/errors.js';
import { notePhase, recordPhasesTo, timePhase } from '../helpers/host/phases.js';
import { addJunitProperties, clusterProperties } from '../helpers/report/junit-properties.js';
import { childEnv, readSettings, type Settings } from '../helpers/settings.js';
import { DEFAULT_PRESET, presetFiles } from '../helpers/suite/presets.js';
import { selectChecks } from '../helpers/suite/selection.js';
import { openSession, type Session } from '../helpers/suite/session.js';
import { formatSpecList, listSpecs } from '../helpers/suite/spec-list.js';
import { collectChecks } from './checks.js';
import { cleanupCommand } from './cleanup.js';
import { diagnoseService } from './diagnose.js';
import { Interrupt } from './interrupt.js';
import { projectSuites } from './project.js';
import { scaleCommand } from './scale.js';
import { wrapClusterError } from './cluster-error.js';

const SCALE_FLAGS = ['services', 'endpoints', 'max-p99', 'max-sync', 'no-quick'] as const;

const USAGE = `usage: svc-conformance <command>
  run [--preset quick|full|none] [--suites DIR]... [--focus RE] [--skip RE] [--junit FILE] [--run-id ID]
                                                    --suites: your own specs beside ours (or in svc-conformance.config.ts)
      [--kubeconfig FILE --context NAME]            test a cluster you have (never created or destroyed)
      [--node-access privileged-pod|none]           node-level checks there: a privileged pod per node, or skip them
      [--disruptive]                                the recovery checks there too: they restart its kube-proxy and
                                                    flush its rules (clusters a run makes get them without it)
      [--provider local] [--name N] [--nodes N] [--proxy-mode iptables|nftables] [--keep-cluster]
      [--kubernetes VERSION] [--ip-family ipv4|ipv6|dual] [--zones N] [--cni bridge|flannel]
                                                    or a local cluster (reused if one of this shape is up),
                                                    of a version npm run setup -- --kubernetes VERSION built
      [--provider kind [--kind-config iptables|nftables|two-node|FILE]]   or a kind cluster (npm run setup -- --kind)
  setup [--kind] [--k3s] [--images-only] [--kubernetes VERSION]
                                builds what runs need (npm run setup in a checkout), cached in ~/.cache/svc-conformance
  test [--selftest]             unit tests and every suite on a throwaway cluster (2 nodes in 2 zones unless
                                --nodes/--zones say otherwise) and the command's own tests (npm test);
                                with --selftest (default when CI=true) also the fault self-test
  list [--suites DIR]...        every spec and check, with its section and presets
  diagnose NAMESPACE/SERVICE --kubeconfig FILE [--context NAME]   the guide's checklist on your Service
  scale [--services 1000] [--endpoints 3] [--max-p99 5s] [--max-sync 2s] [--no-quick]   with run's cluster flags:
                                N Services, each node's programming latency, VIP correctness, the quick
                                preset with them in place; test-results/scale.json (exit 1 over the gate)
  cleanup --kubeconfig FILE [--context NAME] [--older-than 1h] [--run-id ID]
                                removes what earlier runs left (objects labelled svc-conformance.io/run-id)
  cluster up [--provider local|kind|k3s] [--kind-config C] [--name N] [--nodes N] [--proxy-mode M]
             [--kubernetes V] [--ip-family F] [--zones N] [--cni bridge|flannel]
                                prints the kubeconfig path
  cluster down [--provider local|kind|k3s] [--name N]
Presets: quick = setup, service-exists, dns, clusterip, endpoints; full (default) = every spec, ours and
--suites'; none = --suites' only. *.disruptive.spec.ts files (recovery) run last, alone.
Reports: test-results/junit.xml, results.json, summary.json, report.md, diagnostics/<spec>.md`;

const OPTIONS = {
  provider: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  nodes: { type: 'string' },
  'proxy-mode': { type: 'string' },
  'kind-config': { type: 'string' },
  'node-access': { type: 'string' },
  kubernetes: { type: 'string' },
  'ip-family': { type: 'string' },
  zones: { type: 'string' },
  cni: { type: 'string' },
  name: { type: 'string' },
  preset: { type: 'string' },
  suites: { type: 'string', multiple: true },
  focus: { type: 'string' },
  skip: { type: 'string' },
  junit: { type: 'string' },
  'run-id': { type: 'string' },
  'older-than': { type: 'string' },
  'keep-cluster': { type: 'boolean' },
  disruptive: { type: 'boolean' },
  selftest: { type: 'boolean' },
  services: { type: 'string' },
  endpoints: { type: 'string' },
  'max-p99': { type: 'string' },
  'max-sync': { type: 'string' },
  'no-quick': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    const unknown = /^Unknown option '([^']+)'/.exec((error as Error).message);
    throw new UsageError(
      `${unknown ? `unknown option ${unknown[1]}` : (error as Error).message.split('\n')[0].replace(/\.$/, '')}; run svc-conformance --help`,
    );
  }
}

export async function main(argv: string[]): Promise<number> {
  let debug = false;
  try {
    // setup's options are the script's own (setup/setup.sh checks them).
    if (argv[0] === 'setup') return await setup(argv.slice(1));
    const { values, positionals } = parse(argv);
    if (values.help || positionals.length === 0) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    const [command, sub] = positionals;
    const scaleOnly = SCALE_FLAGS.filter((flag) => values[flag] !== undefined);
    if (command !== 'scale' && scaleOnly.length)
      throw new UsageError(
        `--${scaleOnly[0]} belongs to the scale command; run svc-conformance scale --${scaleOnly[0]} ...`,
      );
    const suites = command === 'run' || command === 'list' ? await projectSuites(values.suites) : [];
    const asked = childEnv({ ...flagsAsEnv(values), SVC_SUITES: suites.join(delimiter) || undefined });
    const env = childEnv({ SVC_RESULTS: projectResults(readSettings(asked)), ...testShape(command, asked) }, asked);
    const settings = readSettings(env); // validates every value now: a bad one ends here with exit 2
    debug = settings.debug;
    switch (command) {
      case 'run': {
        // Which checks run is settled before any cluster exists: a filter that keeps none is exit 2.
        const selection = selectRun(values, settings, env);
        // The disruptive project's specs run after the suites', alone (vitest.config.ts).
        return await runTests(['--project', 'suites', '--project', 'disruptive', ...selection], values, settings, env);
      }
      case 'test':
        return await runTests([], values, settings, env, settings.ci || !!values.selftest);
      case 'diagnose':
        return await diagnoseService(sub, settings);
      case 'scale':
        return await scaleCommand(values, settings, env);
      case 'cleanup':
        return await cleanupCommand(settings.run.kubeconfig, values.context, values['older-than'], values['run-id']);
      case 'list': {
        const files = presetFiles('full', settings.run.suiteDirs);
        console.log(formatSpecList(listSpecs(files, collectChecks(files, settings, env))));
        return 0;
      }
      case 'cluster':
        return await cluster(sub, settings);
      default:
        throw new UsageError(`unknown command "${command}"; run svc-conformance --help`);
    }
  } catch (error) {
    return fail(error, debug);
  }
}

/**
 * The vitest arguments of a run: the preset's spec files, and the -t filter of --focus/--skip.
 * A project's specs and any filter are checked by collecting the names vitest gives the checks
 * (bin/collect.ts): a spec that does not load, or a filter that keeps nothing, is exit 2 here.
 */
function selectRun(values: Values, settings: Settings, env: Record<string, string>): string[] {
  const preset = values.preset ?? DEFAULT_PRESET;
  const files = presetFiles(preset, settings.run.suiteDirs);
  const filtered = values.focus !== undefined || values.skip !== undefined;
  if (!filtered && settings.run.suiteDirs.length === 0) return files;
  const checks = collectChecks(files, settings, env);
  return selectChecks({ preset, focus: values.focus, skip: values.skip }, files, checks).vitestArgs;
}

/** Run from a project of its own (not this checkout) with no SVC_RESULTS, the reports go to its test-results/. */
function projectResults(asked: Settings): string | undefined {
  const unset = asked.resultsDir === readSettings({}).resultsDir;
  return unset && process.cwd() !== repoRoot ? join(process.cwd(), 'test-results') : undefined;
}

/**
 * `test` (npm test, CI) runs the suites on 2 nodes in 2 zones unless told otherwise: the checks of
 * cross-node paths, per-node policies and traffic distribution need them, and a gate that skips
 * them proves nothing about them.
 */
function testShape(command: string, asked: Record<string, string>): Record<string, string | undefined> {
  if (command !== 'test' || asked.SVC_KUBECONFIG || (asked.SVC_PROVIDER && asked.SVC_PROVIDER !== 'local')) return {};
  const nodes = asked.SVC_NODES ?? '2';
  return { SVC_NODES: nodes, SVC_ZONES: asked.SVC_ZONES ?? (nodes === '1' ? undefined : '2') };
}

/** Every cluster option travels as an SVC_* variable, so vitest's workers read the same settings. */
function flagsAsEnv(values: Values): Record<string, string | undefined> {
  return {
    SVC_PROVIDER: values.provider,
    SVC_KUBECONFIG: values.kubeconfig,
    SVC_CONTEXT: values.context,
    SVC_NODES: values.nodes,
    SVC_PROXY_MODE: values['proxy-mode'],
    SVC_KIND_CONFIG: values['kind-config'],
    SVC_NODE_ACCESS: values['node-access'],
    SVC_KUBERNETES: values.kubernetes,
    SVC_IP_FAMILY: values['ip-family'],
    SVC_ZONES: values.zones,
    SVC_CNI: values.cni,
    SVC_CLUSTER_NAME: values.name,
    SVC_PRESET: values.preset,
    SVC_KEEP_CLUSTER: values['keep-cluster'] ? '1' : undefined,
    SVC_DISRUPTIVE: values.disruptive ? '1' : undefined,
  };
}

async function cluster(action: string | undefined, settings: Settings): Promise<number> {
  if (action !== 'up' && action !== 'down') {
    throw new UsageError(
      `cluster needs "up" or "down", not "${action ?? ''}"; e.g. svc-conformance cluster up --name dev`,
    );
  }
  const name = settings.run.provider ?? 'local';
  if (name === 'existing') {
    throw new UsageError(
      'cluster up/down makes and removes clusters; an existing cluster is yours: pass --kubeconfig FILE to run instead',
    );
  }
  const provider = await providerNamed(name, settings);
  const clusterName = settings.run.clusterName ?? provider.defaultClusterName;
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (action === 'up') {
    const handle = await wrapClusterError(provider.up({ ...clusterOptions(settings), name: clusterName }));
    const proxy = handle.capabilities.proxyMode;
    console.error(
      `cluster ${handle.name}: ${handle.nodes.length} node(s) Ready, DNS answering, in ${took()} (kube-proxy ${proxy}, CNI ${handle.capabilities.cni})`,
    );
    console.log(handle.kubeconfig);
    return 0;
  }
  await provider.down(clusterName);
  console.error(`cluster ${clusterName}: removed in ${took()}`);
  return 0;
}

/** `npm run setup` for a project that installed the package: the same script, from the package's folder. */
async function setup(args: string[]): Promise<number> {
  const child = spawn('bash', [join(repoRoot, 'setup', 'setup.sh'), ...args], { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

/**
 * Brings the cluster up here (exit 2 if that fails), runs vitest against it, then removes
 * what the run made: after success, after failure, and on SIGINT/SIGTERM (vitest runs in its
 * own process group, stopped whole before the cleanup starts).
 */
async function runTests(
  vitestArgs: string[],
  values: Values,
  settings: Settings,
  env: Record<string, string>,
  selftest = false,
): Promise<number> {
  const runId = checkRunId(values['run-id'] ?? (settings.run.runId || newRunId()));
  const resultsDir = settings.resultsDir;
  const interrupt = new Interrupt();
  recordPhasesTo(settings.phasesFile);
  notePhase('cli start', Math.round(performance.timeOrigin));
  try {
    const session = await timePhase('cluster check', runId, () =>
      wrapClusterError(openSession(runId, settings, (line) => console.log(line))),
    );
    if (interrupt.signal) return await stopped(session, interrupt);
    mkdirSync(resultsDir, { recursive: true });
    for (const old of ['summary.json', 'report.md', 'diagnostics'])
      rmSync(join(resultsDir, old), { recursive: true, force: true });
    // Per run, outside the results dir: two runs from one checkout must not read each other's cluster.
    const handleFile = join(mkdtempSync(join(tmpdir(), `svc-conformance-${runId}-`)), 'cluster.json');
    writeFileSync(handleFile, JSON.stringify(session.handle, null, 2));
    const runEnv = childEnv(
      { SVC_RUN_ID: runId, SVC_CLUSTER_HANDLE_FILE: handleFile, SVC_RESULTS: resultsDir, SVC_JUNIT: values.junit },
      env,
    );
    const vitest = toolEntry('vitest');
    const spawned = Date.now();
    // Each worker thread's young generation may grow to 3 × 16 MB while it mostly waits on the
    // cluster: 2 MB semi-spaces took the full suite's peak from 1.49 to 1.24 GiB at 10 workers.
    // The config is loaded in place (`runner`), not bundled to a temporary file beside it: an
    // installed package's folder is never written.
    const args = ['--max-semi-space-size=2', vitest, 'run', '--configLoader', 'runner', ...vitestArgs];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: runEnv,
      stdio: 'inherit',
      detached: true,
    });
    const code = await interrupt.wait(child);
    notePhase('vitest', spawned);
    rmSync(dirname(handleFile), { recursive: true, force: true });
    if (interrupt.signal) return await stopped(session, interrupt);
    await timePhase('teardown', runId, () => closeQuietly(session));
    const reporting = Date.now();
    addJunitProperties(values.junit ?? settings.junitFile, clusterProperties(session.handle, runId));
    const faults = selftest ? await runSelftest(resultsDir, env) : { passed: 0, failed: 0 };
    console.log(`report: ${join(resultsDir, 'report.md')}`);
    printClosingLine(resultsDir, code, faults);
    notePhase('reports', reporting);
    return code === 0 && faults.failed === 0 ? 0 : 1;
  } finally {
    interrupt.dispose();
  }
}

/** The end of a run stopped by a signal: what it made is removed, and the exit code says which signal. */
async function stopped(session: Session, interrupt: Interrupt): Promise<number> {
  await closeQuietly(session);
  const what = session.madeCluster
    ? `cluster ${session.handle.name} (made for this run)`
    : `the objects of run ${session.runId}`;
  console.error(`svc-conformance: stopped by ${interrupt.signal}; removed ${what}`);
  return interrupt.exitCode;
}

/** npm run selftest, counted as one check per fault: detected, right cause, green after undo. */
async function runSelftest(
  resultsDir: string,
  env: Record<string, string>,
): Promise<{ passed: number; failed: number }> {
  rmSync(join(resultsDir, 'selftest.json'), { force: true }); // a crashed self-test must not read an old result
  const child = spawn(process.execPath, [toolEntry('tsx'), join(repoRoot, 'bench', 'selftest.ts')], {
    cwd: repoRoot,
    env,
    stdio: 'inherit',
  });
  await new Promise((resolve) => child.on('exit', resolve));
  try {
    const { outcomes } = JSON.parse(readFileSync(join(resultsDir, 'selftest.json'), 'utf8')) as {
      outcomes: { detected: boolean; rightCause: boolean; greenAfterUndo: boolean }[];
    };
    const ok = outcomes.filter((o) => o.detected && o.rightCause && o.greenAfterUndo).length;
    return { passed: ok, failed: outcomes.length - ok };
  } catch {
    return { passed: 0, failed: 1 };
  }
}

/** `N passed, N failed, N skipped`, alone on the last line, from the summary reporter's totals. */
function printClosingLine(resultsDir: string, vitestExit: number, extra = { passed: 0, failed: 0 }): void {
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

function fail(error: unknown, debug: boolean): number {
  if (error instanceof UsageError) {
    console.error(`svc-conformance: ${error.message.split('\n')[0]}`);
    if (debug && error.cause) console.error(error.cause);
    return 2;
  }
  // One line, as the API words it (not its HTTP body and headers); the whole error with SVC_DEBUG=1.
  console.error(`svc-conformance: ${apiMessage(error)}${debug ? '' : ' (SVC_DEBUG=1 prints the whole error)'}`);
  if (debug) console.error(error);
  return 1;
}
