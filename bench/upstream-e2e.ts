// The side-by-side of `npm run bench`: on one cluster, the upstream e2e test binary of the
// same Kubernetes version (go test -c of k8s.io/kubernetes/test/e2e, setup/build-go.sh e2e)
// focused on the upstream tests the ledger counts as covered (coverage/, docs/COVERAGE.md), then
// the checks of ours that cover them; both wall times and their ratio. The set grows with the ledger.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, versions } from '../helpers/config.js';
import { containerdSocket } from '../helpers/cluster/local/configs.js';
import { clusterLayout } from '../helpers/cluster/local/layout.js';
import { readLedger } from '../helpers/coverage/ledger.js';
import { coveredOf, oursFocus, upstreamFocus, type RacedTest } from '../helpers/coverage/race.js';
import { listUpstreamTests } from '../helpers/coverage/upstream-tests.js';
import { run } from '../helpers/host/run.js';
import { readSettings } from '../helpers/settings.js';

const settings = readSettings();
const { cacheDir, resultsDir } = settings;

interface ParallelRun {
  procs: number;
  seconds: number;
  passed: number;
  failed: number;
  /** Raced tests that ran in none of its processes (skipped at run time, e.g. needing 2 nodes). */
  notRun: string[];
}

export interface SideBySide {
  /** Against ginkgo's fastest run (absent when the race timed none). */
  upstreamParallel?: {
    procs: number;
    seconds: number;
    oursSeconds: number;
    ratio: number;
    /** It failed none and ran as many tests as any run. */
    complete: boolean;
    met: boolean;
    goal: string;
    runs: ParallelRun[];
  };
  kubernetes: string;
  cluster: typeof RACE_SHAPE & { upstreamRunsIn: string };
  /** Upstream serial, when timed (--procs with 1). */
  upstream?: UpstreamRun;
  ours: { seconds: number; runs: { seconds: number; summary: string }[]; checks: string[] };
  ratio?: number;
  goal?: string;
  met?: boolean;
  /** What was raced: the ledger's covered tests, each with the checks that cover it. */
  coverage: { ledger: string; raced: RacedTest[] };
}

/** Builds (or finds cached) e2e.test and its images, imports the images into the cluster's nodes. */
export async function prepareUpstream(clusterName: string, nodes: number): Promise<string> {
  await run('bash', [join(repoRoot, 'setup', 'build-go.sh'), 'e2e'], { timeoutMs: 3_600_000 });
  await run('bash', [join(repoRoot, 'setup', 'build-e2e-images.sh')], { timeoutMs: 1_800_000 });
  const dir = join(cacheDir, 'images-e2e');
  for (const node of clusterLayout(clusterName, nodes, settings).nodes) {
    for (const archive of readdirSync(dir).filter((f) => f.endsWith('.tar'))) {
      await run('ctr', ['--address', containerdSocket(node), '-n', 'k8s.io', 'images', 'import', join(dir, archive)], {
        where: `for ${node.name}`,
      });
    }
  }
  return join(cacheDir, 'bin', `e2e-${versions.kubernetes}`, 'e2e.test');
}

/**
 * The race's cluster: the shape on which upstream's covered tests can all run, so that both sides do the
 * same work. 3 nodes in 3 zones for the topology and traffic-distribution tests (as `npm run conformance --
 * --families` runs them), dual-stack for the dual-stack tests. On a 1-node IPv4 cluster upstream's
 * dual-stack tests fail at once, its tests needing 2 nodes skip, and ours skip theirs too: unequal work.
 */
export const RACE_SHAPE = { nodes: 3, zones: 3, ipFamily: 'dual' } as const;

/** The ginkgo process counts the race times by default; 1 is upstream serial (e2e.test alone, as before ginkgo -p). */
export const RACE_PROCS = [8, 4, 2, 1];

export async function sideBySide(
  binary: string,
  cluster: { kubeconfig: string; fabricNetns: string },
  env: Record<string, string>,
  settled: () => Promise<void>,
  procsToTime: number[] = RACE_PROCS,
): Promise<SideBySide> {
  const { kubeconfig, fabricNetns } = cluster;
  const reportDir = join(resultsDir, 'bench-upstream');
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const upstreamTests = await listUpstreamTests(settings);
  const raced = coveredOf(upstreamTests, readLedger());
  if (raced.length === 0) throw new Error('the ledger counts no upstream test as covered: nothing to race');
  const focus = upstreamFocus(raced, upstreamTests);
  const progress = (line: string) => console.error(`bench upstream: ${line}`);
  progress(`${raced.length} upstream tests the ledger counts as covered`);

  // Ours first, then upstream from its likely fastest setting to its slowest, each said as it ends: on the
  // whole covered set upstream takes hours, and what was measured before a run is cut short is not lost.
  const cli = join(repoRoot, 'bin', 'svc-conformance.js');
  const checks = [...new Set(raced.flatMap((t) => t.checks))];
  // Ours three times (upstream's minutes dwarf its own spread), the ratio taken against our slowest.
  // One untimed run first, as for the full-suite figure: a focused run collects the names it
  // selects once per version of the code (bin/checks.ts keeps them), and that once is not timed.
  const ours = () =>
    run(
      process.execPath,
      [
        cli,
        'run',
        ...['--nodes', `${RACE_SHAPE.nodes}`, '--zones', `${RACE_SHAPE.zones}`, '--ip-family', RACE_SHAPE.ipFamily],
        '--focus',
        oursFocus(raced, env.SVC_CLUSTER_NAME),
      ],
      {
        env,
        allowFailure: true,
        timeoutMs: 900_000,
      },
    );
  await settled();
  await ours();
  const runs: { seconds: number; summary: string }[] = [];
  for (let i = 0; i < 3; i++) {
    await settled();
    const oursStarted = performance.now();
    const result = await ours();
    runs.push({
      seconds: +((performance.now() - oursStarted) / 1000).toFixed(1),
      summary: result.stdout.trim().split('\n').at(-1) ?? '',
    });
    progress(`ours (${checks.length} checks): ${runs.at(-1)!.seconds} s, ${runs.at(-1)!.summary}`);
  }

  // Upstream at its best: the ginkgo CLI in parallel, as CNI projects run it in CI. It runs in the
  // fabric's namespace, where our outside client runs: the node segment is on its links (the API server,
  // NodePorts, the LoadBalancer addresses MetalLB announces there), and its default route is the guard's
  // sink, so upstream's tests reach what ours reach and nothing off the machine.
  const inFabric = { netns: fabricNetns };
  const parallel: ParallelRun[] = [];
  for (const procs of procsToTime.filter((p) => p > 1)) {
    await settled();
    const dir = join(resultsDir, `bench-upstream-p${procs}`);
    const r = await ginkgoRun(binary, kubeconfig, focus, dir, procs, RACE_SHAPE.nodes, inFabric);
    const junit = readJunit(dir);
    // A ledger title may end in a space (upstream's It string does), a junit name never does.
    const notRun = raced.filter((t) => !junit.tests.some((name) => name.includes(t.title.trim()))).map((t) => t.title);
    parallel.push({ procs, seconds: r.seconds, passed: junit.passed, failed: junit.failed, notRun });
    progress(
      `ginkgo -p ${procs}: ${r.seconds} s, ${junit.passed} passed, ${junit.failed} failed, ${notRun.length} not run`,
    );
    for (const failure of junit.failures) progress(`  ✗ ${failure}`);
  }
  parallel.sort((a, b) => a.procs - b.procs);

  let upstream: SideBySide['upstream'];
  if (procsToTime.includes(1)) {
    await settled();
    const started = performance.now();
    await run(
      ...inNetns(inFabric, binary, [
        `--kubeconfig=${kubeconfig}`,
        '--provider=skeleton',
        `--num-nodes=${RACE_SHAPE.nodes}`,
        `--ginkgo.focus=${focus}`,
        '--ginkgo.no-color',
        `--report-dir=${reportDir}`,
        '--ginkgo.timeout=180m',
      ]),
      {
        allowFailure: true,
        timeoutMs: 11_100_000,
        env: { KUBECONFIG: kubeconfig },
      },
    );
    upstream = { seconds: +((performance.now() - started) / 1000).toFixed(1), ...readJunit(reportDir) };
    progress(`serial: ${upstream.seconds} s, ${upstream.passed} passed, ${upstream.failed} failed`);
  }

  const slowest = Math.max(...runs.map((r) => r.seconds));
  const serial = upstream
    ? {
        ratio: +(upstream.seconds / slowest).toFixed(2),
        goal: 'ours at least 5x faster than upstream serial on the covered set (against our slowest of three runs)',
        met: upstream.seconds / slowest >= 5,
      }
    : {};
  // Upstream's best is its fastest parallel run that failed none and ran every raced test the
  // others ran (one skipped at run time is skipped by ours too). A race with no such run is not met.
  const mostRun = Math.max(...parallel.map((p) => p.passed), upstream?.passed ?? 0);
  const complete = parallel.filter((p) => p.failed === 0 && p.passed > 0 && p.passed >= mostRun);
  const best = parallel.length
    ? (complete.length ? complete : parallel).reduce((a, b) => (b.seconds < a.seconds ? b : a))
    : undefined;
  return {
    kubernetes: versions.kubernetes,
    cluster: { ...RACE_SHAPE, upstreamRunsIn: "the fabric's network namespace, as our outside client" },
    ...(upstream ? { upstream } : {}),
    ours: { seconds: slowest, runs, checks },
    ...serial,
    ...(best
      ? {
          upstreamParallel: {
            procs: best.procs,
            seconds: best.seconds,
            oursSeconds: slowest,
            ratio: +(best.seconds / slowest).toFixed(2),
            complete: complete.includes(best),
            met: complete.includes(best) && best.seconds / slowest >= 4,
            goal: 'ours at least 4x faster than upstream at its best (ginkgo -p at 2, 4 and 8 procs, the fastest run that failed none)',
            runs: parallel,
          },
        }
      : {}),
    coverage: { ledger: 'docs/COVERAGE.md', raced },
  };
}

/**
 * e2e.test under the ginkgo CLI with `procs` parallel processes, as upstream's hack/ginkgo-e2e.sh
 * runs it (ginkgo flags, then the suite's after --); junit_01.xml goes to `reportDir`. `nodes` is
 * passed as --num-nodes, as hack/ginkgo-e2e.sh does: left unset, only ginkgo's process 1 counts the
 * nodes, and on the other processes the tests that need 2 nodes skip ("Requires at least 2 nodes (not -1)").
 */
export async function ginkgoRun(
  binary: string,
  kubeconfig: string,
  focus: string,
  reportDir: string,
  procs: number,
  nodes?: number,
  where: { netns?: string } = {},
): Promise<{ seconds: number; exitCode: number }> {
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const ginkgo = join(dirname(binary), 'ginkgo');
  const started = performance.now();
  const r = await run(
    ...inNetns(where, ginkgo, [
      `--procs=${procs}`,
      '--no-color',
      '--timeout=60m',
      '--silence-skips',
      binary,
      '--',
      `--kubeconfig=${kubeconfig}`,
      '--provider=skeleton',
      `--ginkgo.focus=${focus}`,
      `--report-dir=${reportDir}`,
      ...(nodes ? [`--num-nodes=${nodes}`] : []),
    ]),
    { allowFailure: true, timeoutMs: 3_900_000, env: { KUBECONFIG: kubeconfig } },
  );
  return { seconds: +((performance.now() - started) / 1000).toFixed(1), exitCode: r.exitCode };
}

/** `command args`, or `ip netns exec NETNS command args` when `where` names a network namespace. */
function inNetns(where: { netns?: string }, command: string, args: string[]): [string, string[]] {
  return where.netns ? ['ip', ['netns', 'exec', where.netns, command, ...args]] : [command, args];
}

interface UpstreamRun {
  seconds: number;
  passed: number;
  failed: number;
  skipped: number;
  tests: string[];
  failures: string[];
}

/** Pass/fail counts and names from ginkgo's junit_01.xml. */
export function readJunit(dir: string): Omit<UpstreamRun, 'seconds'> {
  const file = join(dir, 'junit_01.xml');
  if (!existsSync(file))
    return { passed: 0, failed: 0, skipped: 0, tests: [], failures: [`no ${file}: the e2e binary did not finish`] };
  const xml = readFileSync(file, 'utf8');
  const cases = [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  // Only the specs themselves ("[It] …"), not ginkgo's suite-level nodes ([ReportBeforeSuite], …).
  const ran = cases.filter(([, name, , body]) => name.startsWith('[It]') && !/<skipped/.test(body ?? ''));
  const failed = ran.filter(([, , , body]) => /<failure|<error/.test(body ?? ''));
  const unescape = (s: string) =>
    s
      .replace(/&#34;/g, '"')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  const named = ran.map(([, name]) => unescape(name));
  return {
    passed: named.length - failed.length,
    failed: failed.length,
    skipped: cases.filter(([, name]) => name.startsWith('[It]')).length - ran.length,
    tests: named,
    failures: failed.map(
      ([, name, , body]) =>
        `${unescape(name)}: ${unescape(/message="([^"]*)"/.exec(body ?? '')?.[1] ?? '').slice(0, 300)}`,
    ),
  };
}
