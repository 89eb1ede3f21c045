// svcprobe run on a node (the same program the client pods run), for "from a node" checks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/cluster.js';
import { IMAGE_PROBE, nodeShell, type NodeShell } from '../cluster/node-shell.js';
import type { NodeAccess, NodeInfo } from '../cluster/provider.js';
import { parseProbeOutput, type DialResult, type LookupResult, type Tally } from '../parse/svcprobe.js';
import type { Settings } from '../settings.js';

/** svcprobe as setup built it on this machine: for commands in this host's network namespaces. */
export const hostProbe = (settings: Settings) => join(settings.cacheDir, 'bin', 'svcprobe');

/** The svcprobe binary where commands go `via`: the host's build in this host's netns (the local provider), /svcprobe elsewhere. */
export function probeFor(via: NodeAccess, settings: Settings): string {
  return via === 'netns' && existsSync(hostProbe(settings)) ? hostProbe(settings) : IMAGE_PROBE;
}

/** The svcprobe binary for node commands. */
export const probePath = (cluster: Cluster): string => probeFor(cluster.nodeAccess, cluster.settings);

/** Runs svcprobe `args` (with the run's probe timeout) through `shell`, `via` its kind, and reads its JSON answer. */
export async function runProbe<T>(
  shell: NodeShell,
  via: NodeAccess,
  args: string[],
  where: string,
  settings: Settings,
): Promise<T> {
  const command = [probeFor(via, settings), ...args, `--timeout=${settings.timeouts.probe}ms`];
  const result = await shell.run(command, { allowFailure: true });
  return parseProbeOutput<T>(result.stdout, args.join(' '), `${where} (exit ${result.exitCode})`, result.stderr);
}

const nodeProbe = <T>(cluster: Cluster, node: NodeInfo, args: string[]): Promise<T> =>
  runProbe<T>(nodeShell(cluster, node), cluster.nodeAccess, args, `on node ${node.name}`, cluster.settings);

/** `tcp`: ask over TCP only (else UDP). */
export const nodeLookup = (cluster: Cluster, node: NodeInfo, name: string, server: string, tcp = false) =>
  nodeProbe<LookupResult>(cluster, node, ['lookup', name, '--server', server, ...(tcp ? ['--tcp'] : [])]);

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
