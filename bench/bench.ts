// npm run bench: the speed and memory figures, written to test-results/bench.json.
// Targets are reported beside each figure; nothing here is a pass/fail assertion.
//   cluster up (warm caches) to nodes Ready and DNS answering   target < 60 s (goal 30 s)
//   cluster down                                                 target < 10 s
//   memory of a 1-node cluster (every process in its cgroups)    target < 2.5 GiB
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalProvider } from '../helpers/cluster/local.js';
import { cgroupMemoryBytes } from '../helpers/cluster/local/daemons.js';
import { CGROUP_PARENT } from '../helpers/cluster/local/layout.js';
import { resultsDir, versions } from '../helpers/config.js';

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

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'bench.json');
  writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`written to ${file}`);
}

await main();
