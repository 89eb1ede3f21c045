// A handle for a cluster named by a kubeconfig (the existing provider, diagnose, cleanup):
// what the API says about nodes and DNS, plus node access when the kubeconfig belongs to a
// local cluster of this machine. Every way this can go wrong (no file, not a kubeconfig,
// nothing answering, credentials refused) ends as one UsageError line: what, and what to do.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { Kube, statusCode } from '../kube/client.js';
import { internalIP } from '../kube/nodes.js';
import { STATE_ROOT } from './local/layout.js';
import { ipFamiliesOfNodes } from './families.js';
import type { ClusterHandle } from './provider.js';

/** How long the first API request may take before the server counts as unreachable. */
const REACH_BUDGET_MS = 15_000;

export async function attachByKubeconfig(kubeconfig: string, context?: string): Promise<ClusterHandle> {
  const kube = openKubeconfig(kubeconfig, context);
  const server = kube.config.getCurrentCluster()!.server;
  const nodes = (await reachApi(kube, server, (k) => k.core.listNode())).items;
  const local = localHandleFor(server);
  if (local) return { ...local, kubeconfig };
  const dns = await kube.core
    .readNamespacedService({ namespace: 'kube-system', name: 'kube-dns' })
    .catch(() => undefined);
  return {
    provider: 'existing',
    name: kube.config.getCurrentContext(),
    kubeconfig,
    nodeAccess: 'none',
    capabilities: {
      kubernetesVersion: nodes[0]?.status?.nodeInfo?.kubeletVersion ?? 'unknown',
      proxyMode: 'unknown',
      cni: 'unknown',
      ipFamilies: ipFamiliesOfNodes(nodes),
      nodeCount: nodes.length,
      clusterDomain: 'cluster.local',
      dnsIP: dns?.spec?.clusterIP ?? '',
    },
    nodes: nodes.map((n) => ({ name: n.metadata!.name!, internalIP: internalIP(n) ?? '' })),
  };
}

/** A client for the kubeconfig's context, or a UsageError saying what is wrong with the file. */
export function openKubeconfig(kubeconfig: string, context?: string): Kube {
  if (!existsSync(kubeconfig))
    throw new UsageError(
      `kubeconfig ${kubeconfig} does not exist; pass the path of a kubeconfig file with --kubeconfig`,
    );
  let kube: Kube;
  try {
    kube = new Kube(kubeconfig, context);
  } catch (error) {
    throw new UsageError(
      `kubeconfig ${kubeconfig} cannot be read (${(error as Error).message.split('\n')[0]}); check that it is a valid kubeconfig`,
    );
  }
  const cluster = kube.config.getCurrentCluster();
  if (!cluster?.server) {
    const contexts = kube.config.getContexts().map((c) => c.name);
    throw new UsageError(
      `kubeconfig ${kubeconfig} has no cluster for context "${context ?? kube.config.getCurrentContext()}"${contexts.length ? ` (contexts: ${contexts.join(', ')})` : ''}; name one with --context or check the file`,
    );
  }
  return kube;
}

/** The first request to a cluster, with the two usual failures said plainly: refused credentials, no answer. */
export async function reachApi<T>(kube: Kube, server: string, request: (kube: Kube) => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REACH_BUDGET_MS}ms`)), REACH_BUDGET_MS);
  });
  try {
    return await Promise.race([request(kube), timeout]);
  } catch (error) {
    const code = statusCode(error);
    if (code === 401)
      throw new UsageError(
        `the API server at ${server} does not accept these credentials (HTTP 401: token or certificate unknown or expired); get a fresh kubeconfig for this cluster`,
      );
    if (code === 403)
      throw new UsageError(
        `the API server at ${server} forbids these credentials: ${apiMessage(error)} (HTTP 403); bind the user to a role that grants it (e.g. cluster-admin) or use another kubeconfig`,
      );
    const cause = rootCause(error);
    if (/certificate|self[- ]signed|x509/i.test(cause)) {
      throw new UsageError(
        `the API server at ${server} answers with a certificate this kubeconfig does not trust (${cause}); set the cluster's certificate-authority(-data) in the kubeconfig`,
      );
    }
    throw new UsageError(
      `the API server at ${server} cannot be reached (${cause}); check the server address in the kubeconfig and that the cluster is up`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether these credentials may do what a run does: make and delete namespaces (each spec
 * makes one). Asked of the API server (SelfSubjectAccessReview) before anything is created.
 */
export async function requireRunRights(kube: Kube, server: string): Promise<void> {
  const authz = kube.config.makeApiClient(k8s.AuthorizationV1Api);
  for (const verb of ['create', 'delete'] as const) {
    const review = await reachApi(kube, server, () =>
      authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource: 'namespaces' } } } }),
    );
    if (!review.status?.allowed) {
      throw new UsageError(
        `the credentials in this kubeconfig may not ${verb} namespaces on ${server} (each spec runs in its own namespace); bind the user to a role that grants it (e.g. cluster-admin) or use another kubeconfig`,
      );
    }
  }
}

/** The Status message of an API error ("nodes is forbidden: User ... cannot list ..."). */
export function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
    if (status?.message) return status.message;
  } catch {
    // not a Status object
  }
  return apiErrorLine((error as Error).message);
}

/**
 * An error's message as one line: for the client's ApiException ("HTTP-Code: 403\nMessage: ...\nBody:
 * ...\nHeaders: ..."), the code and the API's Status message; for anything else, its first line.
 */
export function apiErrorLine(message: string): string {
  const first = message.split('\n')[0];
  const body = /\nBody: (.*)\n/.exec(message)?.[1];
  if (!body) return first;
  try {
    // The client writes the body with JSON.stringify, and the body may itself be the Status's JSON text.
    let status = JSON.parse(body) as unknown;
    if (typeof status === 'string') status = JSON.parse(status) as unknown;
    const { message: said, code } = (status ?? {}) as { message?: string; code?: number };
    return said ? `${code ?? /HTTP-Code: (\d+)/.exec(first)?.[1] ?? ''} ${said}`.trim() : first;
  } catch {
    return first;
  }
}

/** The innermost cause of a network error: "connect ECONNREFUSED 127.0.0.1:1" rather than "request failed". */
function rootCause(error: unknown): string {
  let e = error as { message?: string; cause?: unknown; code?: string };
  while (e?.cause) e = e.cause as typeof e;
  const line = (e?.message ?? String(e)).split('\n')[0];
  return /reason: (.*)$/.exec(line)?.[1] ?? line; // node-fetch: "request to URL failed, reason: connect ECONNREFUSED ..."
}

/** The handle of a local cluster on this machine whose API server is `server`, if there is one. */
function localHandleFor(server: string): ClusterHandle | undefined {
  if (!existsSync(STATE_ROOT)) return undefined;
  for (const name of readdirSync(STATE_ROOT)) {
    const file = join(STATE_ROOT, name, 'state.json');
    if (!existsSync(file)) continue;
    try {
      const { handle } = JSON.parse(readFileSync(file, 'utf8')) as { handle: ClusterHandle };
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(handle.kubeconfig);
      if (kc.getCurrentCluster()?.server === server) return handle;
    } catch {
      // a cluster being torn down right now: not this one
    }
  }
  return undefined;
}
