// How the cost of programming Services grows: `svc-conformance scale` at 100, 1,000 and 5,000
// Services on a two-node local cluster, in iptables and in nftables mode, one cluster per mode
// (kept across the sizes, removed after). Each point is the run's scale.json; the curve goes
// to bench.json (scaleCurve) and test-results/scale-curve.svg. A size that cannot finish is
// recorded with why, and the larger sizes of that mode are not tried.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalProvider } from '../helpers/cluster/local.js';
import { repoRoot } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { curvePlot } from '../helpers/report/scale-report.js';
import { childEnv, type Settings } from '../helpers/settings.js';

export const SIZES = [100, 1000, 5000];
const MODES = ['iptables', 'nftables'] as const;

export interface CurveEntry {
  proxyMode: string;
  services: number;
  ok: boolean;
  seconds: number;
  programmed?: { p50: number; p90: number; p99: number; max: number; missing: number };
  firstAnswerP99?: number;
  removalP99?: number;
  syncP99?: number;
  rulesPerNode?: number[];
  kubeProxyRssMiB?: number[];
  vipsAllBackends?: string;
  note?: string;
}

export async function scaleCurve(settings: Settings, sizes = SIZES): Promise<{ entries: CurveEntry[]; goal: unknown }> {
  const entries: CurveEntry[] = [];
  const local = new LocalProvider(settings);
  for (const mode of MODES) {
    const name = `bsc${mode.slice(0, 3)}`; // local cluster names: at most 8 letters or digits
    try {
      for (const services of sizes) {
        const results = join(settings.resultsDir, 'bench-scale', `${mode}-${services}`);
        const started = Date.now();
        const r = await run(
          process.execPath,
          [join(repoRoot, 'bin', 'svc-conformance.js'), 'scale', '--services', String(services), '--no-quick'],
          {
            env: childEnv({
              SVC_CLUSTER_NAME: name,
              SVC_NODES: '2',
              SVC_PROXY_MODE: mode,
              SVC_KEEP_CLUSTER: '1',
              SVC_RESULTS: results,
            }),
            allowFailure: true,
            timeoutMs: 40 * 60_000,
          },
        );
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        let scale;
        try {
          scale = JSON.parse(readFileSync(join(results, 'scale.json'), 'utf8'));
        } catch {
          const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
          entries.push({
            proxyMode: mode,
            services,
            ok: false,
            seconds,
            note: `no scale.json (exit ${r.exitCode}): ${why}`,
          });
          console.log(`scale curve: ${mode} ${services}: failed (${why}); larger sizes of ${mode} not tried`);
          break;
        }
        entries.push({
          proxyMode: mode,
          services,
          ok: r.exitCode === 0,
          seconds,
          programmed: scale.programmed,
          firstAnswerP99: scale.firstAnswer.p99,
          removalP99: scale.removal.p99,
          syncP99: scale.syncSeconds.p99,
          rulesPerNode: scale.rules.perNode.map((n: { rules: number }) => n.rules),
          kubeProxyRssMiB: scale.rules.perNode.map((n: { kubeProxyRssBytes?: number }) =>
            Math.round((n.kubeProxyRssBytes ?? 0) / 2 ** 20),
          ),
          vipsAllBackends: `${scale.sampled.allBackendsAnswered}/${scale.sampled.vips}`,
          note: scale.gate?.breaches?.join('; ') || undefined,
        });
        console.log(
          `scale curve: ${mode} ${services}: p50 ${scale.programmed.p50} s, p99 ${scale.programmed.p99} s (${seconds} s in all)`,
        );
      }
    } finally {
      await local.down(name);
    }
  }
  const points = entries
    .filter((e) => e.programmed)
    .map((e) => ({ proxyMode: e.proxyMode, services: e.services, p50: e.programmed!.p50, p99: e.programmed!.p99 }));
  mkdirSync(settings.resultsDir, { recursive: true });
  if (points.length) writeFileSync(join(settings.resultsDir, 'scale-curve.svg'), await curvePlot(points));
  const at1000 = MODES.map((m) => entries.find((e) => e.proxyMode === m && e.services === 1000));
  return {
    entries,
    goal: {
      what: '1,000 Services, p99 create → programmed under 5 s, in both modes',
      met: at1000.every((e) => e?.programmed && e.programmed.missing === 0 && e.programmed.p99 < 5),
      p99: Object.fromEntries(at1000.map((e, i) => [MODES[i], e?.programmed?.p99 ?? null])),
    },
  };
}
