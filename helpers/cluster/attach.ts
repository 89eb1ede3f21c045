// A handle for a cluster named by a kubeconfig (diagnose, and later the existing provider):
// what the API says about nodes and DNS, plus node access when the kubeconfig belongs to a
// local cluster of this machine. The kubeconfig must name its context: no implicit default.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { Kube, statusCode } from '../kube/client.js';
import { STATE_ROOT } from './local/layout.js';
import type { ClusterHandle } from './provider.js';

export async function attachByKubeconfig(kubeconfig: string, context?: string): Promise<ClusterHandle> {
  if (!existsSync(kubeconfig)) throw new UsageError(`kubeconfig ${kubeconfig} does not exist; pass the path of a kubeconfig file with --kubeconfig`);
  let kube: Kube;
  try {
    kube = new Kube(kubeconfig, context);
  } catch (error) {
    throw new UsageError(`kubeconfig ${kubeconfig} cannot be read (${(error as Error).message.split('\n')[0]}); check that it is a valid kubeconfig`);
  }
  if (!kube.config.getCurrentCluster()) throw new UsageError(`kubeconfig ${kubeconfig} has no cluster for context "${context ?? kube.config.getCurrentContext()}"; name one with --context`);
  const server = kube.config.getCurrentCluster()!.server;
  let nodes: k8s.V1Node[];
  try {
    nodes = (await kube.core.listNode()).items;
  } catch (error) {
    const code = statusCode(error);
    if (code === 401 || code === 403) throw new UsageError(`the API server at ${server} refused these credentials (HTTP ${code}): bind the user to rbac/ or use another kubeconfig`);
    throw new UsageError(`the API server at ${server} cannot be reached (${(error as Error).message.split('\n')[0]}); check the kubeconfig and that the cluster is up`);
  }
  const local = localHandleFor(server);
  if (local) return { ...local, kubeconfig };
  const dns = await kube.core.readNamespacedService({ namespace: 'kube-system', name: 'kube-dns' }).catch(() => undefined);
  return {
    provider: 'existing',
    name: kube.config.getCurrentContext(),
    kubeconfig,
    nodeAccess: 'none',
    capabilities: {
      kubernetesVersion: nodes[0]?.status?.nodeInfo?.kubeletVersion ?? 'unknown',
      proxyMode: 'unknown',
      cni: 'unknown',
      ipFamilies: ['IPv4'],
      nodeCount: nodes.length,
      clusterDomain: 'cluster.local',
      dnsIP: dns?.spec?.clusterIP ?? '',
    },
    nodes: nodes.map((n) => ({ name: n.metadata!.name!, internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '' })),
  };
}

/** The handle of a local cluster on this machine whose API server is `server`, if there is one. */
function localHandleFor(server: string): ClusterHandle | undefined {
  if (!existsSync(STATE_ROOT)) return undefined;
  for (const name of readdirSync(STATE_ROOT)) {
    const file = join(STATE_ROOT, name, 'state.json');
    if (!existsSync(file)) continue;
    const { handle } = JSON.parse(readFileSync(file, 'utf8')) as { handle: ClusterHandle };
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(handle.kubeconfig);
    if (kc.getCurrentCluster()?.server === server) return handle;
  }
  return undefined;
}
