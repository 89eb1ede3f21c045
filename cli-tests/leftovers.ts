// What a run or a local cluster left on this machine and in a cluster, each as a line of
// text: tests expect the list to be empty, and a failure names what was left.
import { ipv6Net } from '../helpers/cluster/local/layout.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { run } from '../helpers/host/run.js';
import { Kube } from '../helpers/kube/client.js';
import { RUN_ID_LABEL } from '../helpers/cluster/run-id.js';
import type { TestClusterEnv } from './cli.js';

/** Everything of local cluster `c` that down() must remove: state, netns, links, routes, nft, cgroups, mounts, processes. */
export async function localClusterLeftovers(c: TestClusterEnv): Promise<string[]> {
  const left: string[] = [];
  for (const dir of [
    `/var/lib/svc-conformance/${c.name}`,
    `/run/svc-conformance/${c.name}`,
    `/sys/fs/cgroup/pids/svc-conformance/${c.name}`,
  ]) {
    if (existsSync(dir)) left.push(`directory ${dir}`);
  }
  const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]);
  left.push(...netns.filter((n) => n.startsWith(`svc-${c.name}-`)).map((n) => `netns ${n}`));
  if ((await run('ip', ['link', 'show', `svc${c.name}-h`], { allowFailure: true })).exitCode === 0)
    left.push(`link svc${c.name}-h`);
  if ((await run('nft', ['list', 'table', 'inet', `svc_conformance_${c.name}`], { allowFailure: true })).exitCode === 0)
    left.push(`nft table svc_conformance_${c.name}`);
  // Both families: a dual-stack or IPv6 cluster's ranges are derived from its IPv4 ones.
  const v6 = ipv6Net({
    ...c,
    externalIPRange: c.nodeSubnet,
    loadBalancerIPRange: c.nodeSubnet,
    clusterDomain: 'cluster.local',
  });
  const routes = [
    ...(await run('ip', ['route', 'show'])).stdout.split('\n'),
    ...(await run('ip', ['-6', 'route', 'show'])).stdout.split('\n'),
  ];
  left.push(
    ...routes
      .filter((r) =>
        [c.nodeSubnet, c.podCIDR, c.serviceCIDR, v6.nodeSubnet, v6.podCIDR, v6.serviceCIDR].some((cidr) =>
          r.includes(cidr),
        ),
      )
      .map((r) => `route ${r.trim()}`),
  );
  left.push(
    ...readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((m) => m.includes(`/svc-conformance/${c.name}/`))
      .map((m) => `mount ${m.split(' ')[1]}`),
  );
  left.push(
    ...processesWhere(
      (pid) =>
        read(`/proc/${pid}/cgroup`).includes(`/svc-conformance/${c.name}/`) ||
        read(`/proc/${pid}/cmdline`).includes(`/svc-conformance/${c.name}/`),
    ),
  );
  return left;
}

/** Processes that run for run `runId` (vitest and its workers carry SVC_RUN_ID in their environment). */
export function runProcesses(runId: string): string[] {
  return processesWhere((pid) => read(`/proc/${pid}/environ`).split('\0').includes(`SVC_RUN_ID=${runId}`));
}

/** Namespaces and cluster-scoped objects (ClusterRoles, ClusterRoleBindings) labelled with a run id. */
export async function runObjects(kubeconfig: string, runId?: string): Promise<string[]> {
  const kube = new Kube(kubeconfig);
  const labelSelector = runId ? `${RUN_ID_LABEL}=${runId}` : RUN_ID_LABEL;
  const name = (kind: string) => (o: { metadata?: k8s.V1ObjectMeta }) => `${kind}/${o.metadata?.name}`;
  return [
    ...(await kube.core.listNamespace({ labelSelector })).items.map(name('Namespace')),
    ...(await kube.rbac.listClusterRole({ labelSelector })).items.map(name('ClusterRole')),
    ...(await kube.rbac.listClusterRoleBinding({ labelSelector })).items.map(name('ClusterRoleBinding')),
  ].sort();
}

/**
 * What a finished run left in the cluster: at its exit, any object of the run but a
 * terminating, empty namespace (no pods, no Services); and whatever is still listed 20 s
 * later (Kubernetes' namespace controller removes a namespace 5 s after its deletion at
 * the earliest). Empty when the run cleaned up after itself.
 */
export async function leftAfterRun(kubeconfig: string, runId: string): Promise<string[]> {
  const kube = new Kube(kubeconfig);
  const labelSelector = `${RUN_ID_LABEL}=${runId}`;
  const atExit: string[] = [];
  for (const ns of (await kube.core.listNamespace({ labelSelector })).items) {
    const namespace = ns.metadata!.name!;
    if (!ns.metadata?.deletionTimestamp) atExit.push(`Namespace/${namespace} (not deleted)`);
    const held = [
      ...(await kube.core.listNamespacedPod({ namespace })).items.map((p) => `Pod/${p.metadata?.name}`),
      ...(await kube.core.listNamespacedService({ namespace })).items.map((s) => `Service/${s.metadata?.name}`),
    ];
    if (held.length) atExit.push(`Namespace/${namespace} still holds ${held.join(', ')}`);
  }
  atExit.push(...(await runObjects(kubeconfig, runId)).filter((o) => !o.startsWith('Namespace/')));
  let later = await runObjects(kubeconfig, runId);
  for (
    const until = Date.now() + 20_000;
    later.length && Date.now() < until;
    later = await runObjects(kubeconfig, runId)
  )
    await new Promise((r) => setTimeout(r, 500));
  return [...atExit.map((o) => `at exit: ${o}`), ...later.map((o) => `20 s later: ${o}`)];
}

/** kube-proxy's iptables rules on a local node that mention a namespace (its Services' comments say "ns/name"). */
export async function nodeRulesOf(netns: string, namespace: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'exec', netns, 'iptables-save']);
  return stdout.split('\n').filter((l) => l.includes(`${namespace}/`));
}

function processesWhere(match: (pid: string) => boolean): string[] {
  const self = String(process.pid);
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && p !== self && match(p))
    .filter((p) => !read(`/proc/${p}/stat`).split(') ')[1]?.startsWith('Z'))
    .map((p) => `process ${p} ${read(`/proc/${p}/cmdline`).split('\0').join(' ').slice(0, 120)}`);
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
