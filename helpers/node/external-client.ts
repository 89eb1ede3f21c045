// A client outside the cluster, on the nodes' network (the local cluster's fabric
// namespace): what NodePort, externalTrafficPolicy and externalIPs checks send from, so
// that a request arrives at a node the way an outside client's would.
import type { ClusterHandle, ExternalClient } from '../cluster/provider.js';
import { run, type ExecResult } from '../host/run.js';
import { timeouts } from '../config.js';
import type { Tally } from '../workloads/client-pod.js';
import { hostProbe } from './node-probe.js';

/** Why checks from outside the cluster cannot run here; undefined when they can. */
export function externalSkipReason(cluster: ClusterHandle): string | undefined {
  if (!cluster.external) return `the ${cluster.provider} provider has no client outside the cluster's nodes to send from`;
  return undefined;
}

function external(cluster: ClusterHandle): ExternalClient {
  const reason = externalSkipReason(cluster);
  if (reason) throw new Error(reason);
  return cluster.external!;
}

/** The external client is a network namespace of this machine: its commands are this host's. */
function runExternal(cluster: ClusterHandle, command: string[], allowFailure = false): Promise<ExecResult> {
  const client = external(cluster);
  return run('ip', ['netns', 'exec', client.target, ...command], { where: `on the external client (${client.address})`, allowFailure });
}

/** GETs url `count` times from outside the cluster; each body is tallied. */
export async function externalHttp(cluster: ClusterHandle, url: string, count = 1): Promise<Tally> {
  const args = ['http', url, `--count=${count}`, `--concurrency=${Math.min(count, 16)}`, `--timeout=${timeouts.probe}ms`];
  const result = await runExternal(cluster, [hostProbe, ...args], true);
  if (!result.stdout) throw new Error(`\`svcprobe ${args.join(' ')}\` on the external client printed nothing (exit ${result.exitCode}: ${result.stderr})`);
  return JSON.parse(result.stdout) as Tally;
}

/**
 * Routes `address` from the external client to `via` (a node's address), the way a
 * router in front of the cluster would for an externalIP. Returns the undo.
 */
export async function routeFromExternal(cluster: ClusterHandle, address: string, via: string): Promise<() => Promise<void>> {
  await runExternal(cluster, ['ip', 'route', 'replace', `${address}/32`, 'via', via]);
  return async () => {
    await runExternal(cluster, ['ip', 'route', 'del', `${address}/32`], true);
  };
}
