// svc-conformance scale [--services N] [--endpoints M] [--max-p99 D] [--max-sync D] [--no-quick]
// with the cluster flags of `run`. Creates N Services of M endpoints each in a namespace of
// its own, measures how fast and how correctly every node programs them (helpers/scale/),
// runs the quick preset while they exist, deletes them, and writes test-results/scale.json
// and the Scale section of report.md with its plot. Exit 0 within the gate, 1 over it (or a
// VIP that missed a backend, or a quick check that failed), 2 bad input.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFromHandle } from '../helpers/cluster/cluster.js';
import { checkRunId, newRunId } from '../helpers/cluster/run-id.js';
import { repoRoot } from '../helpers/config.js';
import { UsageError } from '../helpers/errors.js';
import { latencyPlot, scaleSection, withScaleSection } from '../helpers/report/scale-report.js';
import { runScale, type ScaleResult } from '../helpers/scale/run.js';
import { childEnv, type Settings } from '../helpers/settings.js';
import { openSession } from '../helpers/suite/session.js';
import { wrapClusterError } from './cluster-error.js';

export interface ScaleFlags {
  services?: string;
  endpoints?: string;
  'max-p99'?: string;
  'max-sync'?: string;
  'no-quick'?: boolean;
  'run-id'?: string;
}

const LIMITS = { services: 20_000, endpoints: 50 };

/** "5s", "500ms", "2m" or bare seconds, as seconds; anything else is bad input. */
export function parseDuration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} "${text}" is not a duration; write it like 5s, 500ms or 2m`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
}

function count(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max)
    throw new UsageError(`--${flag} "${text}" must be a whole number from 1 to ${max}`);
  return n;
}

/** What broke the gate, one phrase each; empty within it. */
export function gateBreaches(r: ScaleResult, maxP99?: number, maxSync?: number): string[] {
  const out: string[] = [];
  if (r.programmed.missing) out.push(`${r.programmed.missing} Service(s) never programmed on every node`);
  if (maxP99 !== undefined && r.programmed.p99 > maxP99)
    out.push(`p99 create → programmed ${r.programmed.p99} s is over --max-p99 ${maxP99} s`);
  if (maxSync !== undefined && (r.syncSeconds.p99 ?? Infinity) > maxSync)
    out.push(`p99 kube-proxy sync ${r.syncSeconds.p99 ?? 'unknown'} s is over --max-sync ${maxSync} s`);
  if (r.sampled.allBackendsAnswered < r.sampled.vips)
    out.push(`${r.sampled.vips - r.sampled.allBackendsAnswered} of ${r.sampled.vips} sampled VIPs missed a backend`);
  if (r.dns.answered < r.dns.names)
    out.push(
      `${r.dns.names - r.dns.answered} of ${r.dns.names} sampled Service names not answered with their ClusterIP`,
    );
  if (r.removal.missing) out.push(`${r.removal.missing} endpoint removal(s) never programmed`);
  if (r.quickWithServices?.failed)
    out.push(`${r.quickWithServices.failed} quick check(s) failed with the Services in place`);
  return out;
}

export async function scaleCommand(
  flags: ScaleFlags,
  settings: Settings,
  env: Record<string, string>,
): Promise<number> {
  const services = count('services', flags.services, 1000, LIMITS.services);
  const endpoints = count('endpoints', flags.endpoints, 3, LIMITS.endpoints);
  const maxP99 = parseDuration('max-p99', flags['max-p99']);
  const maxSync = parseDuration('max-sync', flags['max-sync']);
  if (settings.run.proxyMode === 'ipvs')
    throw new UsageError(
      "scale reads kube-proxy's iptables or nftables rules; ipvs mode is not measured: use --proxy-mode iptables or nftables",
    );
  if (settings.run.nodeAccess === 'none')
    throw new UsageError(
      "scale reads kube-proxy's rules on every node: it needs node access (drop --node-access none, or use --node-access privileged-pod)",
    );
  const runId = checkRunId(flags['run-id'] ?? (settings.run.runId || newRunId()));
  const session = await wrapClusterError(openSession(runId, settings, (line) => console.log(line)));
  try {
    const handle = session.handle;
    if (handle.nodeAccess === 'none')
      throw new UsageError(
        `scale reads kube-proxy's rules on every node, and this cluster gives no node access; pass --node-access privileged-pod`,
      );
    if (handle.capabilities.proxyMode !== 'iptables' && handle.capabilities.proxyMode !== 'nftables')
      throw new UsageError(
        `scale reads iptables or nftables rules; this cluster's kube-proxy runs ${handle.capabilities.proxyMode}`,
      );
    const cluster = clusterFromHandle(handle, runId, settings);
    const namespace = await cluster.namespace('scale');
    const result = await runScale(cluster, namespace, {
      services,
      endpoints,
      firstAnswerSample: 100,
      vipSample: 100,
      removals: 100,
      concurrency: 16,
      withServicesInPlace: flags['no-quick'] ? undefined : () => quickRun(handle.name, settings, env),
      log: (line) => console.log(line),
    });
    const gate = gateBreaches(result, maxP99, maxSync);
    const dir = settings.resultsDir;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'scale.json'),
      `${JSON.stringify({ runId, gate: { maxP99, maxSync, breaches: gate }, ...result }, null, 2)}\n`,
    );
    writeFileSync(join(dir, 'scale.svg'), await latencyPlot(result));
    const report = join(dir, 'report.md');
    writeFileSync(
      report,
      withScaleSection(existsSync(report) ? readFileSync(report, 'utf8') : '', scaleSection(result, 'scale.svg', gate)),
    );
    const p = result.programmed;
    console.log(
      `scale: ${services} Services × ${endpoints} endpoints (${result.proxyMode}, ${result.nodes} node(s)): create → programmed p50 ${p.p50} s, p90 ${p.p90} s, p99 ${p.p99} s, max ${p.max} s; first answer p99 ${result.firstAnswer.p99} s; removal p99 ${result.removal.p99} s; sync p99 ${result.syncSeconds.p99 ?? '?'} s; ${result.sampled.allBackendsAnswered}/${result.sampled.vips} VIPs reached every backend; ${result.dns.answered}/${result.dns.names} sampled names answered their ClusterIP`,
    );
    console.log(`scale: ${join(dir, 'scale.json')}, ${report}`);
    for (const breach of gate) console.log(`scale: gate: ${breach}`);
    return gate.length ? 1 : 0;
  } finally {
    await session
      .close()
      .catch((e: Error) => console.error(`svc-conformance: cleanup after scale failed: ${e.message}`));
  }
}

/** The quick preset on the same cluster while the Services exist: a child `run` that reuses it and leaves it up. */
async function quickRun(
  clusterName: string,
  settings: Settings,
  env: Record<string, string>,
): Promise<{ passed: number; failed: number; skipped: number }> {
  const results = join(settings.resultsDir, 'scale-quick');
  // A run id of its own: the scale run's namespaces are not the quick run's to clean up.
  const base = Object.fromEntries(Object.entries(env).filter(([key]) => key !== 'SVC_RUN_ID'));
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'svc-conformance.js'), 'run', '--preset', 'quick'], {
    cwd: repoRoot,
    env: childEnv({ SVC_CLUSTER_NAME: clusterName, SVC_KEEP_CLUSTER: '1', SVC_RESULTS: results }, base),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    process.stdout.write(chunk);
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const closing = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(out.trim().split('\n').at(-1) ?? '');
  if (!closing) return { passed: 0, failed: 1, skipped: 0 };
  return { passed: Number(closing[1]), failed: Number(closing[2]), skipped: Number(closing[3]) };
}
