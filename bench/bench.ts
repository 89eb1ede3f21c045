// npm run bench: the speed and memory figures, written to test-results/bench.json.
// Targets are reported beside each figure; nothing here is a pass/fail assertion.
//   cluster up (warm caches) to nodes Ready and DNS answering   target < 60 s (goal 30 s)
//   cluster down                                                 target < 10 s
//   memory of a 1-node cluster (every process in its cgroups)    target < 2.5 GiB
//   full suite on a warm 1-node cluster (svc-conformance run)   target < 60 s
//   parse a 100k-rule iptables-save                              target < 0.5 s
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalProvider } from '../helpers/cluster/local.js';
import { cgroupMemoryBytes } from '../helpers/cluster/local/daemons.js';
import { CGROUP_PARENT } from '../helpers/cluster/local/layout.js';
import { repoRoot, resultsDir, versions } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { parseIptablesSave } from '../helpers/parse/iptables-save.js';

const NAME = 'bench';
const GiB = 1024 ** 3;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

async function main(): Promise<void> {
  const local = new LocalProvider();
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
      figures.memory1Node = { usageGiB: +(mem.usage / GiB).toFixed(3), rssGiB: +(mem.rss / GiB).toFixed(3), targetGiB: 2.5 };
    }
    const [, down] = await timed(() => local.down(NAME));
    downs.push(down);
  }
  figures.clusterUpSeconds = { runs: ups.map((s) => +s.toFixed(1)), best: +Math.min(...ups).toFixed(1), target: 60, goal: 30 };
  figures.clusterDownSeconds = { runs: downs.map((s) => +s.toFixed(1)), best: +Math.min(...downs).toFixed(1), target: 10 };

  figures.suiteWarmSeconds = { ...(await suiteOnWarmCluster()), target: 60 };
  figures.iptablesSaveParse100k = { ...parse100k(), targetSeconds: 0.5 };

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'bench.json');
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`written to ${file}`);
}

/** The whole suite twice on one cluster: the first run warms it, the second is timed. */
async function suiteOnWarmCluster(): Promise<{ seconds: number; summary: string }> {
  const env = { ...process.env, SVC_CLUSTER_NAME: NAME, SVC_KEEP_CLUSTER: '1', SVC_RESULTS: join(resultsDir, 'bench-run') };
  const cli = join(repoRoot, 'bin', 'svc-conformance.js');
  try {
    await run(process.execPath, [cli, 'run'], { env, allowFailure: true, timeoutMs: 600_000 });
    const [result, seconds] = await timed(() => run(process.execPath, [cli, 'run'], { env, allowFailure: true, timeoutMs: 600_000 }));
    return { seconds: +seconds.toFixed(1), summary: result.stdout.trim().split('\n').at(-1) ?? '' };
  } finally {
    await new LocalProvider().down(NAME);
  }
}

/** Parses a 100,000-rule iptables-save built from the recorded one (best of 5). */
function parse100k(): { rules: number; bestSeconds: number; medianSeconds: number } {
  const recorded = readFileSync(join(repoRoot, 'helpers', 'parse', 'fixtures', 'iptables-save.hostnames.txt'), 'utf8');
  const sepRules = recorded.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-'));
  const lines: string[] = ['*nat', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; lines.length < 100_000; i++) lines.push(...sepRules.map((l) => l.replace(/KUBE-SEP-\w+/, `KUBE-SEP-${i.toString(36).toUpperCase().padStart(16, 'X')}`)));
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
