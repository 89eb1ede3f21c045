// npm run bench: the speed and memory figures, written to test-results/bench.json.
// Targets are reported beside each figure; nothing here is a pass/fail assertion.
//   cluster up (warm caches) to nodes Ready and DNS answering   goal < 10 s
//   cluster down                                                 target < 10 s
//   memory of a 1-node cluster (every process in its cgroups)    target < 2.5 GiB
//   full suite on a warm 1-node cluster (svc-conformance run)   goal < 30 s
//   quick preset on the same cluster (slowest of three)          goal < 10 s
//     with where its time goes (phases, SVC_PHASES) and the CPU it took (machine, cluster)
//   memory of the run (peak RSS of the CLI and vitest workers)   goal < 1 GiB
//   round-robin over 50 endpoints (requests, bursts, seconds)    reported
//   parse a 100k-rule iptables-save                              target < 0.5 s
//   upstream e2e.test on the overlapping Conformance tests vs our specs for the same ground,
//   on the same cluster, one after the other                    goal: ours ≥ 5× faster
//   scale: 100, 1,000, 5,000 Services in iptables and nftables mode (scale-curve.ts)
//                                                  goal: 1,000 Services, p99 create → programmed < 5 s
// `npm run bench -- --only scale` (or `--only upstream`, `--only speed`: the cluster, suite, quick
// and memory figures) runs that part alone, keeping bench.json's other figures. `--procs 8,4` times
// upstream at those ginkgo process counts only (default 8,4,2,1; 1 is upstream serial, hours long).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalProvider } from '../helpers/cluster/local.js';
import { cgroupMemoryBytes } from '../helpers/cluster/local/daemons.js';
import { CGROUP_PARENT } from '../helpers/cluster/local/layout.js';
import { repoRoot, versions } from '../helpers/config.js';
import { phaseBreakdown, readPhases } from '../helpers/host/phases.js';
import { run } from '../helpers/host/run.js';
import { Kube } from '../helpers/kube/client.js';
import { waitFor } from '../helpers/kube/wait.js';
import { parseIptablesSave } from '../helpers/parse/iptables-save.js';
import type { ClusterHandle } from '../helpers/cluster/provider.js';
import { clusterFromHandle, createNamespace, namespaceName } from '../helpers/cluster/cluster.js';
import { newRunId } from '../helpers/cluster/run-id.js';
import { childEnv, readSettings } from '../helpers/settings.js';
import { startClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames } from '../helpers/workloads/hostnames.js';
import { burstSize, roundRobin } from '../helpers/workloads/round-robin.js';
import { prepareUpstream, RACE_PROCS, RACE_SHAPE, sideBySide } from './upstream-e2e.js';
import { scaleCurve } from './scale-curve.js';
import { hostPort } from '../helpers/address.js';

const NAME = 'bench';
const settings = readSettings();
const resultsDir = settings.resultsDir;
/** The full suite's wall-time goal on one warm node: 1.5x the 24-32 s it took before issue 30's checks. */
const SUITE_GOAL_SECONDS = 48;
const GiB = 1024 ** 3;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  if (only !== undefined && !['scale', 'upstream', 'speed'].includes(only)) {
    console.error(`bench: --only takes "scale", "upstream" or "speed", not "${only}"`);
    process.exit(2);
  }
  const procs = readProcs();
  if (only) {
    // One part alone; the other figures of bench.json are kept.
    const file = join(resultsDir, 'bench.json');
    const figures = (() => {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch {
        return {};
      }
    })();
    const part =
      only === 'scale'
        ? { scaleCurve: await scaleCurve(settings) }
        : only === 'upstream'
          ? { upstreamSideBySide: await upstreamAlone(new LocalProvider(settings), procs) }
          : await speed(new LocalProvider(settings));
    Object.assign(figures, part);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(JSON.stringify(part, null, 2));
    return;
  }
  const figures = await speed(new LocalProvider(settings));
  figures.upstreamSideBySide = await upstreamAlone(new LocalProvider(settings), procs);
  figures.iptablesSaveParse100k = { ...parse100k(), targetSeconds: 0.5 };
  figures.scaleCurve = await scaleCurve(settings);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'bench.json');
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`written to ${file}`);
}

/** The ginkgo process counts of `--procs 8,4,...` (each 1 to 16), or the default. */
function readProcs(): number[] {
  const at = process.argv.indexOf('--procs');
  if (at === -1) return RACE_PROCS;
  const value = process.argv[at + 1] ?? '';
  const procs = value.split(',').map(Number);
  if (!/^\d+(,\d+)*$/.test(value) || procs.some((p) => p < 1 || p > 16)) {
    console.error(
      `bench: --procs takes ginkgo process counts from 1 to 16, comma-separated (1 is upstream serial), not "${value}"`,
    );
    process.exit(2);
  }
  return procs;
}

/** Cluster up and down, then the runs on a warm cluster. */
async function speed(local: LocalProvider): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = { date: new Date().toISOString(), kubernetes: versions.kubernetes };
  await local.down(NAME);

  const ups: number[] = [];
  const downs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const [, up] = await timed(() => local.up({ name: NAME, nodes: 1 }));
    ups.push(up);
    if (i === 0) {
      await sleep(10_000); // let the cluster settle before measuring memory
      const mem = cgroupMemoryBytes(`/${CGROUP_PARENT}/${NAME}`);
      figures.memory1Node = {
        usageGiB: +(mem.usage / GiB).toFixed(3),
        rssGiB: +(mem.rss / GiB).toFixed(3),
        targetGiB: 2.5,
      };
    }
    const [, down] = await timed(() => local.down(NAME));
    downs.push(down);
  }
  figures.clusterUpSeconds = {
    runs: ups.map((s) => +s.toFixed(1)),
    best: +Math.min(...ups).toFixed(1),
    goal: 10,
    met: Math.max(...ups) < 10,
  };
  figures.clusterDownSeconds = {
    runs: downs.map((s) => +s.toFixed(1)),
    best: +Math.min(...downs).toFixed(1),
    target: 10,
  };
  Object.assign(figures, await onWarmCluster(local));
  return figures;
}

/**
 * On one kept 1-node cluster: the full suite twice (the first run warms it, the second is
 * timed, with the run's peak memory), the quick preset and round-robin over 50 endpoints.
 */
async function onWarmCluster(local: LocalProvider): Promise<Record<string, unknown>> {
  const env = childEnv({ SVC_CLUSTER_NAME: NAME, SVC_KEEP_CLUSTER: '1', SVC_RESULTS: join(resultsDir, 'bench-run') });
  const cli = join(repoRoot, 'bin', 'svc-conformance.js');
  const suite = (args: string[] = [], extraEnv: Record<string, string> = {}) =>
    run(process.execPath, [cli, 'run', ...args], {
      env: { ...env, ...extraEnv },
      allowFailure: true,
      timeoutMs: 900_000,
    });
  const phasesFile = join(resultsDir, 'bench-run', 'phases.jsonl');
  const quickRun = async () => {
    rmSync(phasesFile, { force: true });
    const cpu = cpuMeter(NAME);
    const [out, seconds] = await timed(() => suite(['--preset', 'quick'], { SVC_PHASES: phasesFile }));
    return {
      seconds,
      summary: last(out.stdout),
      cpu: cpu.stop(seconds),
      phases: phaseBreakdown(readPhases(phasesFile)),
    };
  };
  const last = (out: string) => out.trim().split('\n').at(-1) ?? '';
  const figures: Record<string, unknown> = {};
  try {
    const handle = await local.up({ name: NAME, nodes: 1 });
    await suite();
    await settled(handle);
    const peak = watchPeakRss(process.pid);
    const cpu = cpuMeter(NAME);
    const [full, fullSeconds] = await timed(() => suite());
    const disruptive = disruptiveSeconds(join(resultsDir, 'bench-run', 'results.json'));
    figures.suiteWarmSeconds = {
      seconds: +fullSeconds.toFixed(1),
      summary: last(full.stdout),
      // 1.5x the full suite's 24-32 s before the data path under change (issue 30) came in.
      goal: SUITE_GOAL_SECONDS,
      met: fullSeconds < SUITE_GOAL_SECONDS,
      // The recovery checks run last and alone; most of their time is kube-proxy's 30 s canary and
      // kubelet's fixed 60 s one, which no CPU shortens.
      disruptiveSeconds: +disruptive.toFixed(1),
      withoutDisruptiveSeconds: +(fullSeconds - disruptive).toFixed(1),
      withoutDisruptiveMet: fullSeconds - disruptive < SUITE_GOAL_SECONDS,
      cpu: cpu.stop(fullSeconds),
    };
    const peakGiB = +(peak.stop() / GiB).toFixed(3);
    figures.runMemory = {
      peakRssGiB: peakGiB,
      goalGiB: 1,
      met: peakGiB < 1,
      what: 'the CLI, vitest and its workers (descendants of the bench process outside the cluster cgroups), sampled every 200 ms, during the full suite',
    };
    // Three timed quick runs, judged by the slowest: a goal met once is not met.
    const quickRuns: Awaited<ReturnType<typeof quickRun>>[] = [];
    for (let i = 0; i < 3; i++) {
      await settled(handle);
      quickRuns.push(await quickRun());
    }
    const slowest = quickRuns.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    figures.quickPresetSeconds = {
      seconds: +slowest.seconds.toFixed(1),
      runs: quickRuns.map((q) => ({ seconds: +q.seconds.toFixed(1), summary: q.summary })),
      goal: 10,
      met: slowest.seconds < 10,
    };
    // Where the slowest quick run's time went, and how busy the machine was meanwhile.
    figures.quickPhases = { ...slowest.phases, cpu: slowest.cpu };
    figures.roundRobin50 = await roundRobin50(handle);
  } finally {
    await local.down(NAME);
  }
  return figures;
}

/** The upstream side-by-side, on a cluster of its own shape (RACE_SHAPE: where every covered test can run). */
async function upstreamAlone(local: LocalProvider, procs: number[]): Promise<unknown> {
  const env = childEnv({ SVC_CLUSTER_NAME: NAME, SVC_KEEP_CLUSTER: '1', SVC_RESULTS: join(resultsDir, 'bench-run') });
  try {
    await local.down(NAME);
    const handle = await local.up({ name: NAME, ...RACE_SHAPE });
    const binary = await prepareUpstream(NAME, RACE_SHAPE.nodes);
    // Upstream runs where our outside client does (the local cluster's fabric namespace).
    const outside = handle.external?.shell;
    if (outside?.via !== 'netns') throw new Error(`local cluster ${NAME} has no outside client namespace`);
    const where = { kubeconfig: handle.kubeconfig, fabricNetns: outside.netns };
    return await sideBySide(binary, where, env, () => settled(handle), procs);
  } finally {
    await local.down(NAME);
  }
}

/**
 * Waits until the previous run's namespaces are gone (the namespace controller removes them
 * a few seconds after a run ends, and the kubelet stops their pods meanwhile): every timed
 * run, ours and upstream's, starts on a warm cluster that is idle, not one still tearing
 * down ~80 pods of the run before.
 */
async function settled(handle: ClusterHandle): Promise<void> {
  const kube = new Kube(handle.kubeconfig);
  await waitFor("the previous run's namespaces gone", 120_000, async () => {
    const left = (await kube.core.listNamespace()).items
      .filter((n) => n.metadata?.deletionTimestamp)
      .map((n) => n.metadata!.name!);
    return { done: left.length === 0, seen: left.join(', ') };
  });
}

/** Deploys 50 backends and counts what it takes for one client to hear from every one. */
async function roundRobin50(handle: ClusterHandle): Promise<Record<string, unknown>> {
  const cluster = clusterFromHandle(handle, newRunId(), settings);
  const ns = await createNamespace(cluster.kube, namespaceName('bench-rr', cluster.runId), cluster.runId);
  try {
    const [app, client] = await Promise.all([
      deployHostnames(cluster, ns, { replicas: 50 }),
      startClientPod(cluster, ns),
    ]);
    const [rr, seconds] = await timed(() =>
      roundRobin(
        client,
        `http://${hostPort(app.clusterIP, app.port)}/`,
        app.pods.map((p) => p.name),
      ),
    );
    return {
      endpoints: 50,
      allAnswered: rr.missing.length === 0,
      requests: rr.requests,
      bursts: rr.bursts,
      burstSize: burstSize(50),
      seconds: +seconds.toFixed(2),
      failures: rr.failures,
    };
  } finally {
    await cluster.kube.deleteIfPresent({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }
}

/**
 * CPU time (cpuacct, cgroup v1) the whole machine and the cluster's cgroup used from now until
 * stop(): with 2 cores, a run that keeps both busy cannot end sooner without doing less.
 */
function cpuMeter(cluster: string): { stop: (wallSeconds: number) => Record<string, number> } {
  const read = (group: string) => Number(readFileSync(`/sys/fs/cgroup/cpuacct${group}/cpuacct.usage`, 'utf8')) / 1e9;
  const groups = { machine: '', cluster: `/${CGROUP_PARENT}/${cluster}` };
  const before = { machine: read(groups.machine), cluster: read(groups.cluster) };
  return {
    stop: (wallSeconds) => {
      const machine = read(groups.machine) - before.machine;
      const cluster = read(groups.cluster) - before.cluster;
      const cores = availableParallelism();
      return {
        cores,
        machineSeconds: +machine.toFixed(1),
        clusterSeconds: +cluster.toFixed(1),
        runAndRestSeconds: +(machine - cluster).toFixed(1),
        busy: +(machine / (cores * wallSeconds)).toFixed(2),
        floorSeconds: +(machine / cores).toFixed(1),
      };
    },
  };
}

/** The wall time of the disruptive project in a run's vitest JSON report: from its first file's start to its last's end. */
function disruptiveSeconds(resultsFile: string): number {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
    testResults: { name: string; startTime: number; endTime: number }[];
  };
  const files = report.testResults.filter((f) => f.name.endsWith('.disruptive.spec.ts'));
  if (!files.length) return 0;
  return (Math.max(...files.map((f) => f.endTime)) - Math.min(...files.map((f) => f.startTime))) / 1000;
}

/** Samples the summed RSS of every descendant of `root` until stop(); returns the peak in bytes. */
function watchPeakRss(root: number): { stop: () => number } {
  let peak = 0;
  const sample = () => {
    const children = new Map<number, number[]>();
    const rss = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
        // The cluster's daemons are descendants too (the bench made the cluster): they live in its cgroups.
        const ofCluster = readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/${CGROUP_PARENT}/`);
        rss.set(Number(entry), ofCluster ? 0 : Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      } catch {
        // the process ended while we looked
      }
    }
    let total = 0;
    const stack = [...(children.get(root) ?? [])];
    while (stack.length) {
      const pid = stack.pop()!;
      total += rss.get(pid) ?? 0;
      stack.push(...(children.get(pid) ?? []));
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, 200);
  return { stop: () => (clearInterval(timer), peak) };
}

/** Parses a 100,000-rule iptables-save built from the recorded one (best of 5). */
function parse100k(): { rules: number; bestSeconds: number; medianSeconds: number } {
  const recorded = readFileSync(join(repoRoot, 'helpers', 'parse', 'fixtures', 'iptables-save.hostnames.txt'), 'utf8');
  const sepRules = recorded.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-'));
  const lines: string[] = ['*nat', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; lines.length < 100_000; i++)
    lines.push(
      ...sepRules.map((l) => l.replace(/KUBE-SEP-\w+/, `KUBE-SEP-${i.toString(36).toUpperCase().padStart(16, 'X')}`)),
    );
  lines.push('COMMIT');
  const text = lines.join('\n');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    parseIptablesSave(text);
    times.push((performance.now() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return { rules: lines.length - 3, bestSeconds: +times[0].toFixed(3), medianSeconds: +times[2].toFixed(3) };
}

await main();
