// When kube-proxy's healthz does not answer on a node: is there no kube-proxy process, or one
// that does not answer (stopped, in uninterruptible sleep, deadlocked)? The next step differs.
// Read from /proc on the node: processes named kube-proxy in the node's own network namespace,
// their state and start time. parseProxyProcesses is pure and tests on recorded output.
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { kubeProxyEndpoints } from '../node/kube-proxy.js';
import { nodeHttp } from '../node/node-probe.js';
import { runOnNode } from '../node/run-on-node.js';
import { gaugeValue } from '../parse/prometheus.js';

export interface ProxyProcess {
  pid: number;
  /** /proc/PID/stat's state: R running, S sleeping, D uninterruptible, T stopped, t traced, Z zombie. */
  state: string;
  /** Seconds since it started. */
  ageSeconds: number;
}

/** One line per kube-proxy in this network namespace ("PID STATE STARTTIME"), then "uptime SECONDS hz TICKS". */
export const PROCESS_SCRIPT = `me=$(readlink /proc/self/ns/net)
for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = kube-proxy ] || continue
  [ "$(readlink "$d/ns/net" 2>/dev/null)" = "$me" ] || continue
  echo "\${d#/proc/} $(sed 's/^.*) //' "$d/stat" | cut -d' ' -f1,20)"
done
echo "uptime $(cut -d' ' -f1 /proc/uptime) hz $(getconf CLK_TCK 2>/dev/null || echo 100)"`;

export async function kubeProxyProcesses(cluster: Cluster, node: NodeInfo): Promise<ProxyProcess[]> {
  return parseProxyProcesses((await runOnNode(cluster, node, ['sh', '-c', PROCESS_SCRIPT])).stdout);
}

/** Unix seconds of kube-proxy's last rules sync, from its metrics; undefined when they do not answer either. */
export async function lastProxySync(cluster: Cluster, node: NodeInfo): Promise<number | undefined> {
  const metric = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';
  const page = await nodeHttp(cluster, node, `${kubeProxyEndpoints(node).metrics}/metrics`, 1, `^${metric}`);
  const text = Object.keys(page.answers)[0];
  return text ? gaugeValue(text, metric, { ip_family: node.internalIP.includes(':') ? 'IPv6' : 'IPv4' }) : undefined;
}

export function parseProxyProcesses(text: string): ProxyProcess[] {
  const lines = text.trim().split('\n');
  const clock = /^uptime (\S+) hz (\d+)/.exec(lines.at(-1) ?? '');
  if (!clock) return [];
  const [uptime, hz] = [Number(clock[1]), Number(clock[2])];
  return lines.slice(0, -1).flatMap((line) => {
    const [pid, state, start] = line.trim().split(/\s+/);
    if (!pid || !state || !start) return [];
    return [{ pid: Number(pid), state, ageSeconds: Math.max(0, Math.round(uptime - Number(start) / hz)) }];
  });
}

const STATES: Record<string, string> = {
  T: 'stopped (state T: a SIGSTOP, or a debugger)',
  t: 'stopped by a tracer (state t)',
  D: 'in uninterruptible sleep (state D: stuck in the kernel, e.g. on a lock or a hung mount)',
  Z: 'a zombie (state Z: it exited and was not reaped)',
  R: 'running (state R) but not answering',
  S: 'sleeping (state S) but not answering: deadlocked, or waiting on a lock such as /run/xtables.lock',
};

/** "1234 stopped (state T …), up 5m20s" */
export function describeProxyProcess(p: ProxyProcess): string {
  return `process ${p.pid} is ${STATES[p.state] ?? `in state ${p.state}`}, up ${duration(p.ageSeconds)}`;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
