// The disruptions the recovery checks make, whichever provider runs the cluster: restart
// kube-proxy, restart the API server, flush kube-proxy's rules on a node. Each returns once the
// part it disrupted is back by its own account (the API server's /readyz, kube-proxy's healthz
// or its pods Ready); whether Services recover is the spec's to check. Where a provider cannot
// make one, disruptionSkipReason says why; a cluster you bring is disrupted only with --disruptive.
// Every disruption is bounded and undoes itself: a stopped daemon is started again here, a
// deleted pod or static-pod container is made again by its controller or its kubelet.
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { waitFor, WaitTimeoutError } from '../kube/wait.js';
import type { Cluster } from './cluster.js';
import { isRunning, startDaemon, stopDaemons, type Daemon } from './local/daemons.js';
import { STATE_ROOT } from './local/layout.js';
import { nodeShell } from './node-shell.js';
import type { NodeInfo } from './provider.js';

export type Disruption = 'restart kube-proxy' | 'restart the API server' | 'flush rules';

/** The label of kube-proxy's DaemonSet pods (kubeadm, kind): upstream's test deletes these. */
const KUBE_PROXY_LABEL = 'k8s-app=kube-proxy';

/** The cluster turned out not to allow the disruption (kube-proxy not run as pods): a reason to skip, not a failure. */
export class CannotDisrupt extends Error {
  override name = 'CannotDisrupt';
}

/** Why this cluster cannot take the disruption here; undefined when it can. */
export function disruptionSkipReason(cluster: Cluster, what: Disruption): string | undefined {
  // Named by --kubeconfig: the user's, even when it is a local cluster of this machine (attached as one).
  const brought = cluster.provider === 'existing' || !!cluster.settings.run.kubeconfig;
  if (brought && !cluster.settings.run.disruptive)
    return `a cluster you bring is not disrupted unless you ask: this check would ${what} on it (pass --disruptive, or SVC_DISRUPTIVE=1, to allow it)`;
  const noShell = cluster.nodes.some((n) => !n.shell);
  if (what === 'flush rules' && noShell)
    return `no node access on this cluster, so no rules to flush (${cluster.provider === 'existing' ? 'pass --node-access privileged-pod with --disruptive' : 'drop --node-access none'} to allow it)`;
  if (what === 'flush rules') return undefined;
  if (what === 'restart kube-proxy' && cluster.provider === 'local' && noShell)
    return "no node access on this cluster (--node-access none), so kube-proxy's health after its restart cannot be read";
  if (cluster.provider === 'k3s')
    return what === 'restart kube-proxy'
      ? 'k3s runs kube-proxy inside its server process: there is no kube-proxy of its own to restart'
      : 'k3s runs the API server inside its server process: restarting it restarts the whole node';
  if (what === 'restart the API server' && cluster.provider === 'existing')
    return "a cluster you bring runs its API server where this machine cannot restart it (upstream's test does it over SSH on GCE only)";
  return undefined;
}

/**
 * Restarts kube-proxy on every node and returns once each answers its healthz again: the local
 * cluster's daemons stopped and started from the options they were started with; elsewhere its
 * DaemonSet's pods deleted and their replacements Ready.
 */
export async function restartKubeProxy(cluster: Cluster): Promise<string> {
  refuseWhere(cluster, 'restart kube-proxy');
  if (cluster.provider === 'local') {
    const restarted = await restartDaemons(cluster, (c) => c.startsWith('kube-proxy-'));
    for (const node of cluster.nodes) await waitForKubeProxyHealthy(cluster, node);
    return `kube-proxy daemons restarted: ${restarted}`;
  }
  return replaceKubeProxyPods(cluster);
}

/** Restarts the API server and returns once its /readyz answers ok: the local daemon, or kind's static pod. */
export async function restartApiServer(cluster: Cluster): Promise<string> {
  refuseWhere(cluster, 'restart the API server');
  let what: string;
  if (cluster.provider === 'local') {
    what = `kube-apiserver daemon restarted: ${await restartDaemons(cluster, (c) => c === 'kube-apiserver')}`;
  } else {
    what = await stopStaticApiServer(cluster);
  }
  await waitFor('kube-apiserver answering /readyz after its restart', cluster.settings.timeouts.clusterUp, async () => {
    const answer = await readyz(cluster);
    return { done: answer === 'ok', seen: answer };
  });
  return what;
}

export interface Flushed {
  node: string;
  /** Per table ("ip filter", "ip6 nat"): the KUBE-* chains removed. */
  removed: Record<string, string[]>;
}

/**
 * Upstream's flush on one node: every rule jumping to a KUBE-* chain deleted, then every KUBE-*
 * chain flushed and deleted, in every table of iptables (and ip6tables on a node that serves
 * IPv6); kubelet's chains (KUBE-IPTABLES-HINT, KUBE-FIREWALL) go with kube-proxy's. kube-proxy's
 * nftables tables are left alone: its nftables mode watches no canary and would not write them
 * again until the Services change (the recovery spec's skip reason says so).
 */
export async function flushRules(cluster: Cluster, node: NodeInfo): Promise<Flushed> {
  refuseWhere(cluster, 'flush rules');
  const shell = nodeShell(cluster, node);
  const removed: Record<string, string[]> = {};
  const families = cluster.capabilities.ipFamilies.includes('IPv6') ? ['ip', 'ip6'] : ['ip'];
  for (const family of families) {
    const tool = family === 'ip' ? 'iptables' : 'ip6tables';
    const saved = (await shell.run([`${tool}-save`])).stdout;
    const { script, chains } = kubeChainsFlush(tool, saved);
    for (const [table, names] of Object.entries(chains)) if (names.length) removed[`${family} ${table}`] = names;
    if (script) await shell.run(['sh', '-c', script]);
  }
  return { node: node.name, removed };
}

/**
 * The commands that delete every KUBE-* chain of an iptables-save dump, as upstream's test builds
 * them: jumps into KUBE-* chains from other chains deleted and KUBE-* chains flushed first, then
 * the chains deleted (a chain cannot go while a rule still names it). Each may fail harmlessly
 * (`|| true`): a rule deleted with its chain is gone already.
 */
export function kubeChainsFlush(tool: string, saved: string): { script: string; chains: Record<string, string[]> } {
  const deleteRules: string[] = [];
  const deleteChains: string[] = [];
  const chains: Record<string, string[]> = {};
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1);
      chains[table] = [];
      continue;
    }
    if (!table) continue;
    if (!line.startsWith('-A KUBE-') && line.includes('-j KUBE-'))
      deleteRules.push(`${tool} -w -t ${table} -D ${line.slice(3)} || true`);
    if (line.startsWith(':KUBE-')) {
      const chain = line.split(' ')[0].slice(1);
      chains[table].push(chain);
      deleteRules.push(`${tool} -w -t ${table} -F ${chain} || true`);
      deleteChains.push(`${tool} -w -t ${table} -X ${chain} || true`);
    }
  }
  return { script: [...deleteRules, ...deleteChains].join('\n'), chains };
}

/**
 * Waits until the node's iptables (ip6tables for `ip6`) has `chain` in `table` again, as kubelet
 * writes KUBE-IPTABLES-HINT; whether it came back within the budget, and what was seen last.
 */
export async function waitForIptablesChain(
  cluster: Cluster,
  node: NodeInfo,
  table: string,
  chain: string,
  budgetMs: number,
): Promise<{ back: boolean; seen: string }> {
  const shell = nodeShell(cluster, node);
  let seen = '';
  try {
    await waitFor(`${table} ${chain} back on ${node.name}`, budgetMs, async () => {
      const saved = (await shell.run(['iptables-save', '-t', table])).stdout;
      const chains = saved.split('\n').filter((l) => l.startsWith(':KUBE-'));
      seen = chains.map((l) => l.split(' ')[0].slice(1)).join(', ') || `no KUBE-* chain in ${table}`;
      return { done: chains.some((l) => l.startsWith(`:${chain} `)), seen };
    });
    return { back: true, seen };
  } catch (error) {
    if (error instanceof WaitTimeoutError) return { back: false, seen: error.message };
    throw error;
  }
}

function refuseWhere(cluster: Cluster, what: Disruption): void {
  const reason = disruptionSkipReason(cluster, what);
  if (reason) throw new Error(`cannot ${what}: ${reason}`);
}

/**
 * Stops the local cluster's daemons whose component matches and starts them again from their
 * recorded start options, recording the new pids in state.json (so `cluster down` stops them).
 */
async function restartDaemons(cluster: Cluster, matches: (component: string) => boolean): Promise<string> {
  const file = join(STATE_ROOT, cluster.name, 'state.json');
  const state = JSON.parse(readFileSync(file, 'utf8')) as { daemons: Daemon[] };
  const chosen = state.daemons.filter((d) => matches(d.component));
  if (chosen.length === 0) throw new Error(`no daemon of cluster ${cluster.name} matches in ${file}`);
  await stopDaemons(chosen);
  const moves: string[] = [];
  for (const daemon of chosen) {
    const old = daemon.pid;
    Object.assign(daemon, await startDaemon(daemon.start));
    if (!isRunning(daemon.pid)) throw new Error(`${daemon.component} did not start again (log ${daemon.log})`);
    moves.push(`${daemon.component} pid ${old} → ${daemon.pid}`);
  }
  writeFileSync(file, JSON.stringify(state, null, 2));
  return moves.join(', ');
}

/** kube-proxy's healthz on the node's loopback answers 200 (it does once its first sync after start is done). */
async function waitForKubeProxyHealthy(cluster: Cluster, node: NodeInfo): Promise<void> {
  const loopback = node.internalIP.includes(':') ? '[::1]' : '127.0.0.1';
  const url = `http://${loopback}:10256/healthz`;
  const shell = nodeShell(cluster, node);
  await waitFor(`kube-proxy on ${node.name} healthy (${url})`, cluster.settings.timeouts.clusterUp, async () => {
    const r = await shell.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', url], {
      allowFailure: true,
    });
    return { done: r.stdout.trim() === '200', seen: `HTTP ${r.stdout.trim() || r.stderr.trim()}` };
  });
}

/** kube-proxy's DaemonSet pods deleted, and as many new ones (other uids) Ready. */
async function replaceKubeProxyPods(cluster: Cluster): Promise<string> {
  const list = () => cluster.kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: KUBE_PROXY_LABEL });
  const before = (await list()).items;
  if (before.length === 0)
    throw new CannotDisrupt(
      `no kube-proxy pods (${KUBE_PROXY_LABEL}) in kube-system: kube-proxy does not run as pods here, so there are none to restart`,
    );
  const old = new Set(before.map((p) => p.metadata!.uid));
  for (const pod of before)
    await cluster.kube.core.deleteNamespacedPod({ namespace: 'kube-system', name: pod.metadata!.name! });
  await waitFor(`${before.length} new kube-proxy pod(s) Ready`, cluster.settings.timeouts.podsReady, async () => {
    const now = (await list()).items.filter((p) => !old.has(p.metadata!.uid));
    const ready = now.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return { done: ready.length === before.length, seen: `${ready.length}/${before.length} Ready` };
  });
  return `kube-proxy pods ${before.map((p) => p.metadata!.name).join(', ')} deleted and replaced`;
}

/**
 * kind: the API server is a static pod on the control-plane node; its container is stopped with
 * crictl there and kubelet starts a new one. Returns once a new container runs.
 */
async function stopStaticApiServer(cluster: Cluster): Promise<string> {
  const planes = await cluster.kube.core.listNode({ labelSelector: 'node-role.kubernetes.io/control-plane' });
  const name = planes.items[0]?.metadata?.name;
  const node = cluster.nodes.find((n) => n.name === name);
  if (!node) throw new Error('no control-plane node among the nodes this machine reaches');
  const shell = nodeShell(cluster, node);
  const running = async () =>
    (await shell.run(['crictl', 'ps', '--name', 'kube-apiserver', '--state', 'Running', '-q'])).stdout.trim();
  const old = await running();
  if (!old) throw new Error(`no running kube-apiserver container on ${node.name}`);
  await shell.run(['crictl', 'stop', old]);
  await waitFor(`a new kube-apiserver container on ${node.name}`, cluster.settings.timeouts.clusterUp, async () => {
    const now = await running();
    return { done: !!now && now !== old, seen: now || 'none running' };
  });
  return `kube-apiserver container ${old.slice(0, 12)} stopped on ${node.name}; kubelet started another`;
}

/** GET /readyz with the run's credentials: 'ok', or what answered instead. */
async function readyz(cluster: Cluster): Promise<string> {
  const config = cluster.kube.config;
  const server = config.getCurrentCluster()?.server;
  if (!server) return 'no server in the kubeconfig';
  const options: Parameters<typeof request>[1] = { method: 'GET', timeout: 2_000 };
  await config.applyToHTTPSOptions(options);
  return new Promise((resolve) => {
    const req = request(new URL('/readyz', server), options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}: ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 2 s')));
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}
