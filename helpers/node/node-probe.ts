// svcprobe run on a node (the same program the client pods run), for "from a node" checks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, timeouts } from '../config.js';
import type { ClusterHandle, NodeInfo } from '../cluster/provider.js';
import type { DialResult, LookupResult, Tally } from '../workloads/client-pod.js';
import { IMAGE_PROBE, runOnNode } from './run-on-node.js';

/** svcprobe as setup built it on this machine: for commands in this host's network namespaces. */
export const hostProbe = join(cacheDir, 'bin', 'svcprobe');

/** The svcprobe binary for node commands: the host's build (local provider's netns), /svcprobe elsewhere. */
export function probePath(cluster: ClusterHandle): string {
  return cluster.nodeAccess === 'netns' && existsSync(hostProbe) ? hostProbe : IMAGE_PROBE;
}

async function nodeProbe<T>(cluster: ClusterHandle, node: NodeInfo, args: string[]): Promise<T> {
  const result = await runOnNode(cluster, node, [probePath(cluster), ...args, `--timeout=${timeouts.probe}ms`], { allowFailure: true });
  if (!result.stdout) throw new Error(`\`svcprobe ${args.join(' ')}\` on node ${node.name} printed nothing (exit ${result.exitCode}: ${result.stderr})`);
  return JSON.parse(result.stdout) as T;
}

export const nodeLookup = (cluster: ClusterHandle, node: NodeInfo, name: string, server: string) =>
  nodeProbe<LookupResult>(cluster, node, ['lookup', name, '--server', server]);

export const nodeHttp = (cluster: ClusterHandle, node: NodeInfo, url: string, count = 1, linesMatching?: string) =>
  nodeProbe<Tally>(cluster, node, ['http', url, `--count=${count}`, `--concurrency=${Math.min(count, 16)}`, ...(linesMatching ? [`--lines-matching=${linesMatching}`] : [])]);

export const nodeDial = (cluster: ClusterHandle, node: NodeInfo, address: string) => nodeProbe<DialResult>(cluster, node, ['dial', address]);
