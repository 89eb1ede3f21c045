// The checks of a run as vitest names them, collected before any cluster exists (bin/collect.ts
// in a child process, against a placeholder cluster of the asked shape), and the one line of a
// spec that cannot be loaded (a missing import, a section defined twice).
//
// Collecting loads every spec in a vitest of its own (~3.5 s). For this checkout's own specs the
// result is kept in the build folder, keyed by the content of the specs, the helpers, the collector and
// the asked cluster shape: a second `list` or `run --focus` of the same code reads it. A
// project's own specs (--suites) are collected every time, since what they import is not known
// before they are loaded.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { ClusterHandle } from '../helpers/cluster/provider.js';
import { repoRoot, toolEntry } from '../helpers/config.js';
import { UsageError } from '../helpers/errors.js';
import type { Settings } from '../helpers/settings.js';
import type { CollectedCheck } from '../helpers/suite/selection.js';

export function collectChecks(files: string[], settings: Settings, env: Record<string, string>): CollectedCheck[] {
  const cacheFile = settings.run.suiteDirs.length
    ? undefined
    : join(settings.buildDir, `checks-${collectKey(files, settings, env)}.json`);
  if (cacheFile) {
    try {
      return JSON.parse(readFileSync(cacheFile, 'utf8')) as CollectedCheck[];
    } catch {
      // not collected for this code and shape yet
    }
  }
  const checks = collectNow(files, settings, env);
  if (cacheFile) keep(cacheFile, checks);
  return checks;
}

/** Variables that say where results go or how much is logged: they do not change a check's name. */
const NOT_IN_KEY = new Set([
  'SVC_RESULTS',
  'SVC_JUNIT',
  'SVC_PHASES',
  'SVC_RUN_ID',
  'SVC_TRACE',
  'SVC_DEBUG',
  'SVC_PARALLEL',
]);

/** What the collected names depend on: the spec files, every helper and the collector, and the asked cluster. */
export function collectKey(files: string[], settings: Settings, env: Record<string, string>): string {
  const hash = createHash('sha256');
  const add = (path: string) =>
    hash
      .update(`${relative(repoRoot, path)}\0`)
      .update(readFileSync(path))
      .update('\0');
  const helpers = readdirSync(join(repoRoot, 'helpers'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
  for (const file of files) add(file);
  for (const file of helpers) add(join(repoRoot, 'helpers', file));
  for (const file of ['index.ts', 'vitest.config.ts', 'package.json', 'bin/collect.ts', 'bin/checks.ts'])
    add(join(repoRoot, file));
  hash.update(JSON.stringify(placeholderCluster(settings)));
  const asked = Object.entries(env)
    .filter(([name]) => name.startsWith('SVC_') && !NOT_IN_KEY.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  hash.update(JSON.stringify(asked));
  return hash.digest('hex').slice(0, 16);
}

/** Written whole or not at all, beside the 7 newest others; a build folder that cannot be written to collects every time. */
function keep(file: string, checks: CollectedCheck[]): void {
  try {
    const dir = dirname(file);
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(checks));
    renameSync(tmp, file);
    readdirSync(dir)
      .filter((f) => f.startsWith('checks-') && f.endsWith('.json'))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)
      .slice(8)
      .forEach((old) => rmSync(old.path, { force: true }));
  } catch {
    // a read-only checkout
  }
}

function collectNow(files: string[], settings: Settings, env: Record<string, string>): CollectedCheck[] {
  const handleFile = join(mkdtempSync(join(tmpdir(), 'svc-conformance-collect-')), 'cluster.json');
  writeFileSync(handleFile, JSON.stringify(placeholderCluster(settings)));
  try {
    const child = spawnSync(process.execPath, [toolEntry('tsx'), join(repoRoot, 'bin', 'collect.ts'), ...files], {
      cwd: repoRoot,
      // One worker: every spec file loads into one module scope, so a section defined twice is seen.
      env: { ...env, SVC_CLUSTER_HANDLE_FILE: handleFile, SVC_PARALLEL: '1', NO_COLOR: '1' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    let result: { checks: CollectedCheck[]; errors: { file: string; message: string }[] };
    try {
      result = JSON.parse(last);
    } catch {
      throw new Error(`collecting the checks failed (exit ${child.status}): ${child.stderr.trim().split('\n').at(-1)}`);
    }
    const [error] = result.errors;
    if (error) {
      const where = error.file ? `spec ${error.file} cannot be loaded` : 'the specs cannot be loaded';
      throw new UsageError(`${where}: ${error.message.split('\n')[0]}; fix it, or leave it out of --suites`);
    }
    return result.checks;
  } finally {
    rmSync(dirname(handleFile), { recursive: true, force: true });
  }
}

/**
 * The cluster the specs are collected against: the asked shape, named as the local provider
 * names it (a spec that makes a check per node is listed with those node names).
 */
function placeholderCluster(settings: Settings): ClusterHandle {
  const name = settings.run.clusterName ?? 'svc';
  const count = settings.run.nodes ?? 1;
  const nodes = Array.from({ length: count }, (_, i) => ({
    name: `${name}-node-${i + 1}`,
    internalIP: `192.0.2.${i + 11}`,
    shell: { via: 'netns' as const, netns: `placeholder-${i + 1}` },
  }));
  return {
    provider: settings.run.provider ?? 'local',
    name,
    kubeconfig: '/nonexistent/placeholder-kubeconfig',
    nodeAccess: 'netns',
    capabilities: {
      kubernetesVersion: 'placeholder',
      proxyMode: settings.run.proxyMode ?? 'iptables',
      cni: 'placeholder',
      ipFamilies: ['IPv4'],
      nodeCount: count,
      clusterDomain: settings.network.clusterDomain,
      dnsIP: settings.network.dnsIP,
    },
    nodes,
    external: {
      shell: { via: 'netns', netns: 'placeholder' },
      address: '192.0.2.1',
      externalIPRange: '192.0.2.128/25',
    },
    guard: { kind: 'local-fabric' },
  };
}
