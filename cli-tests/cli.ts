// Runs the real svc-conformance command in a child process, as a user or CI job would:
// `node bin/svc-conformance.js ...`, with the environment of one test cluster (its own name
// and address ranges, so it never meets the developer's `svc` cluster) and its own results dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from '../helpers/config.js';
import { envWithout } from '../helpers/settings.js';

export const CLI = join(repoRoot, 'bin', 'svc-conformance.js');

/** A test cluster's name and ranges; none overlaps the defaults (10.250/10.244/10.96) or each other. */
export interface TestClusterEnv {
  name: string;
  nodeSubnet: string;
  podCIDR: string;
  serviceCIDR: string;
  dnsIP: string;
}

/** The cluster the cli project keeps up for its files (cli-tests/global-setup.ts). */
export const KEPT: TestClusterEnv = {
  name: 'clit',
  nodeSubnet: '10.249.0.0/24',
  podCIDR: '10.232.0.0/16',
  serviceCIDR: '10.112.0.0/16',
  dnsIP: '10.112.0.10',
};
/** A cluster a `run` makes for itself and must remove again. */
export const THROWAWAY: TestClusterEnv = {
  name: 'clik',
  nodeSubnet: '10.248.0.0/24',
  podCIDR: '10.233.0.0/16',
  serviceCIDR: '10.113.0.0/16',
  dnsIP: '10.113.0.10',
};
/** A dual-stack cluster a `run` makes for itself (--ip-family dual) and removes again. */
export const DUAL: TestClusterEnv = {
  name: 'clid',
  nodeSubnet: '10.245.0.0/24',
  podCIDR: '10.235.0.0/16',
  serviceCIDR: '10.115.0.0/16',
  dnsIP: '10.115.0.10',
};
/** A flannel (VXLAN) cluster a `run` makes for itself (--cni flannel) and removes again. */
export const FLANNEL: TestClusterEnv = {
  name: 'clif',
  nodeSubnet: '10.241.0.0/24',
  podCIDR: '10.229.0.0/16',
  serviceCIDR: '10.119.0.0/16',
  dnsIP: '10.119.0.10',
};
/** Four nodes in two zones: the traffic distribution checks with several nodes per zone. */
export const ZONES: TestClusterEnv = {
  name: 'cliz',
  nodeSubnet: '10.247.0.0/24',
  podCIDR: '10.231.0.0/16',
  serviceCIDR: '10.117.0.0/16',
  dnsIP: '10.117.0.10',
};
/** A name no cluster has: commands refused for bad input must not make it. */
export const NONE: TestClusterEnv = {
  name: 'clix',
  nodeSubnet: '10.247.0.0/24',
  podCIDR: '10.234.0.0/16',
  serviceCIDR: '10.114.0.0/16',
  dnsIP: '10.114.0.10',
};

/** The settings of a run in progress (an outer `npm test`) must not leak into the runs under test. */
const RUN_SETTINGS =
  /^(CI|SVC_(RUN_ID|CLUSTER_HANDLE_FILE|RESULTS|JUNIT|PROVIDER|KUBECONFIG|CONTEXT|NODES|PROXY_MODE|CLUSTER_NAME|KEEP_CLUSTER|PRESET|NODE_ACCESS|KIND_CONFIG|NODE_SUBNET|POD_CIDR|SERVICE_CIDR|DNS_IP|WORKLOAD_PATCH|IP_FAMILY|KUBERNETES|PHASES|ZONES|BUILD_DIR|CNI))$/;

export function cliEnv(
  cluster: TestClusterEnv,
  results = mkdtempSync(join(tmpdir(), 'svc-cli-results-')),
): NodeJS.ProcessEnv {
  return {
    ...envWithout(RUN_SETTINGS),
    SVC_CLUSTER_NAME: cluster.name,
    SVC_NODE_SUBNET: cluster.nodeSubnet,
    SVC_POD_CIDR: cluster.podCIDR,
    SVC_SERVICE_CIDR: cluster.serviceCIDR,
    SVC_DNS_IP: cluster.dnsIP,
    SVC_RESULTS: results,
    FORCE_COLOR: '0',
  };
}

export interface CliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Starts the command; `done` resolves when it exits. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  where = { cli: CLI, cwd: repoRoot },
): { child: ChildProcess; done: Promise<CliResult> } {
  const started = Date.now();
  const child = spawn(process.execPath, [where.cli, ...args], {
    cwd: where.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (exitCode, signal) =>
      resolve({ exitCode, signal, stdout, stderr, durationMs: Date.now() - started }),
    ),
  );
  return { child, done };
}

/** Runs the command to its end; `where` runs another copy of it (a project's installed one) from another folder. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  where?: { cli: string; cwd: string },
): Promise<CliResult> {
  return startCli(args, env, where).done;
}

/** A --focus that keeps whole sections: `^(A|B)` over the checks' full names. */
export function sectionsFocus(sections: string[]): string {
  return `^(${sections.join('|')})`;
}

/**
 * The titles of a finished run's checks with a status (passed, failed, skipped), from its results.json.
 * vitest lists the checks --focus left out of a file as skipped: only those the focus kept are counted.
 */
export function checksByStatus(resultsDir: string, focus: string): (status: string) => string[] {
  const results = JSON.parse(readFileSync(join(resultsDir, 'results.json'), 'utf8')) as {
    testResults: { assertionResults: { fullName: string; title: string; status: string }[] }[];
  };
  const kept = results.testResults.flatMap((f) => f.assertionResults).filter((c) => new RegExp(focus).test(c.fullName));
  return (status) => kept.filter((c) => c.status === status).map((c) => c.title);
}

/** The kubeconfig of the kept test cluster, brought up on first use (`cluster up` reuses a running one). */
export async function keptCluster(): Promise<string> {
  const up = await runCli(['cluster', 'up', '--name', KEPT.name], cliEnv(KEPT));
  if (up.exitCode !== 0) throw new Error(`cluster up --name ${KEPT.name} exited ${up.exitCode}: ${up.stderr.trim()}`);
  return up.stdout.trim();
}

/** The current context of a kubeconfig file, to name it with --context as a user must. */
export function contextOf(kubeconfig: string): string {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc.getCurrentContext();
}
