// svcprobe run on a node (the same program the client pods run), for "from a node" checks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/cluster.js';
import { IMAGE_PROBE, nodeShell } from '../cluster/node-shell.js';
import type { NodeInfo } from '../cluster/provider.js';
import { parseProbeOutput, type DialResult, type LookupResult, type Tally } from '../parse/svcprobe.js';
import type { Settings } from '../settings.js';

/** svcprobe as setup built it on this machine: for commands in this host's network namespaces. */
export const hostProbe = (settings: Settings) => join(settings.cacheDir, 'bin', 'svcprobe');

/** The svcprobe binary for node commands: the host's build (local provider's netns), /svcprobe elsewhere. */
export function probePath(cluster: Cluster): string {
  return cluster.nodeAccess === 'netns' && existsSync(hostProbe(cluster.settings))
    ? hostProbe(cluster.settings)
    : IMAGE_PROBE;
}

async function nodeProbe<T>(cluster: Cluster, node: NodeInfo, args: string[]): Promise<T> {
  const command = [probePath(cluster), ...args, `--timeout=${cluster.settings.timeouts.probe}ms`];
  const result = await nodeShell(cluster, node).run(command, { allowFailure: true });
  return parseProbeOutput<T>(
    result.stdout,
    args.join(' '),
    `on node ${node.name} (exit ${result.exitCode})`,
    result.stderr,
  );
}

export const nodeLookup = (cluster: Cluster, node: NodeInfo, name: string, server: string) =>
  nodeProbe<LookupResult>(cluster, node, ['lookup', name, '--server', server]);

export const nodeHttp = (cluster: Cluster, node: NodeInfo, url: string, count = 1, linesMatching?: string) =>
  nodeProbe<Tally>(cluster, node, [
    'http',
    url,
    `--count=${count}`,
    `--concurrency=${Math.min(count, 16)}`,
    ...(linesMatching ? [`--lines-matching=${linesMatching}`] : []),
  ]);

export const nodeDial = (cluster: Cluster, node: NodeInfo, address: string) =>
  nodeProbe<DialResult>(cluster, node, ['dial', address]);
