// The checks of a run as vitest names them, collected before any cluster exists (bin/collect.ts
// in a child process, against a placeholder cluster of the asked shape), and the one line of a
// spec that cannot be loaded (a missing import, a section defined twice).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ClusterHandle } from '../helpers/cluster/provider.js';
import { repoRoot } from '../helpers/config.js';
import { UsageError } from '../helpers/errors.js';
import type { Settings } from '../helpers/settings.js';
import type { CollectedCheck } from '../helpers/suite/selection.js';

export function collectChecks(files: string[], settings: Settings, env: Record<string, string>): CollectedCheck[] {
  const handleFile = join(mkdtempSync(join(tmpdir(), 'svc-conformance-collect-')), 'cluster.json');
  writeFileSync(handleFile, JSON.stringify(placeholderCluster(settings)));
  try {
    const tsx = join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const child = spawnSync(process.execPath, [tsx, join(repoRoot, 'bin', 'collect.ts'), ...files], {
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
