// Deletes what runs made in a cluster: every namespace and cluster-scoped object labelled
// svc-conformance.io/run-id. cleanupRun removes one run's objects (end of a run, on a signal
// too); findLeftovers/cleanupLeftovers serve `svc-conformance cleanup` for runs that were
// killed before they could. Cluster-scoped kinds are found by API discovery, so a spec that
// makes a ClusterRole or an IngressClass needs nothing added here.
//
// A deleted namespace outlives its contents by at least 5 s: Kubernetes' namespace
// controller waits that long (hard-coded) before it even looks at it. The end of a run
// therefore waits until the run's namespaces are terminating and empty (no pods, no
// Services: nothing runs and no node rule is left) and lets the controller remove the
// shells; `svc-conformance cleanup` waits until they are gone.
import * as k8s from '@kubernetes/client-node';
import { Kube, isNotFound, statusCode } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import type { ClusterHandle } from './provider.js';
import { RUN_ID_LABEL } from './run-id.js';

/** One labelled object: `Namespace/dns-rx1`, `ClusterRole/svc-rx1` (group/version/plural say how to delete it). */
export interface RunObject {
  kind: string;
  name: string;
  runId: string;
  createdAt: Date;
  group: string;
  version: string;
  plural: string;
  /** Deleted already, waiting for its finalizers (a namespace being emptied by its controller). */
  terminating: boolean;
}

export interface Leftovers {
  runId: string;
  objects: RunObject[];
  /** The oldest object's creation time: when the run began, as far as the cluster knows. */
  createdAt: Date;
}

export async function cleanupRun(handle: ClusterHandle, runId: string, budgetMs = 60_000): Promise<void> {
  const kube = new Kube(handle.kubeconfig);
  await deleteUntil(
    kube,
    `${RUN_ID_LABEL}=${runId}`,
    `objects of run ${runId} deleted (namespaces terminating and empty)`,
    budgetMs,
    'emptied',
  );
}

/** Every run's labelled objects, grouped by run id; with olderThanMs, only runs whose every object is that old. */
export async function findLeftovers(kube: Kube, olderThanMs = 0, now = Date.now()): Promise<Leftovers[]> {
  const byRun = new Map<string, RunObject[]>();
  for (const o of await listRunObjects(kube, RUN_ID_LABEL, await clusterScopedKinds(kube)))
    byRun.set(o.runId, [...(byRun.get(o.runId) ?? []), o]);
  return [...byRun.entries()]
    .map(([runId, objects]) => ({
      runId,
      objects,
      createdAt: new Date(Math.min(...objects.map((o) => o.createdAt.getTime()))),
    }))
    .filter((l) => l.objects.every((o) => now - o.createdAt.getTime() >= olderThanMs))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

export async function cleanupLeftovers(kube: Kube, leftovers: Leftovers[], budgetMs = 120_000): Promise<void> {
  for (const l of leftovers)
    await deleteUntil(kube, `${RUN_ID_LABEL}=${l.runId}`, `objects of run ${l.runId} deleted`, budgetMs, 'gone');
}

/**
 * Deletes whatever the selector lists, again on every look, until nothing is listed ('gone')
 * or only terminating namespaces with nothing in them ('emptied'): an object whose create
 * was still in flight when the run was stopped is caught on a later look.
 */
async function deleteUntil(
  kube: Kube,
  selector: string,
  what: string,
  budgetMs: number,
  until: 'gone' | 'emptied',
): Promise<void> {
  // Which kinds exist is asked once (~25 discovery requests): the run that made the objects is over.
  const kinds = await clusterScopedKinds(kube);
  await waitFor(what, budgetMs, async () => {
    const listed = await listRunObjects(kube, selector, kinds);
    const left =
      until === 'gone'
        ? listed
        : await asyncFilter(
            listed,
            async (o) => !(o.kind === 'Namespace' && o.terminating && (await isEmptyNamespace(kube, o.name))),
          );
    await Promise.all(left.map((o) => deleteObject(kube, o))); // again: a create in flight when the run stopped lands late
    return {
      done: left.length === 0,
      seen: left.map((o) => `${o.kind}/${o.name}${o.terminating ? ' (terminating)' : ''}`).join(', '),
    };
  });
}

async function asyncFilter<T>(items: T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}

/** No pods and no Services left in it: nothing of it runs, and kube-proxy has dropped its rules. */
async function isEmptyNamespace(kube: Kube, namespace: string): Promise<boolean> {
  const [pods, services] = await Promise.all([
    kube.core.listNamespacedPod({ namespace, limit: 1 }),
    kube.core.listNamespacedService({ namespace, limit: 1 }),
  ]);
  return pods.items.length === 0 && services.items.length === 0;
}

async function deleteObject(kube: Kube, o: RunObject): Promise<void> {
  try {
    if (o.kind === 'Namespace') await deleteNamespaceNow(kube, o.name);
    else if (o.group === '')
      await kube.deleteIfPresent({ apiVersion: o.version, kind: o.kind, metadata: { name: o.name } });
    else
      await kube.config.makeApiClient(k8s.CustomObjectsApi).deleteClusterCustomObject({
        group: o.group,
        version: o.version,
        plural: o.plural,
        name: o.name,
        propagationPolicy: 'Background',
      });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Deletes a run's namespace and, once it is terminating (nothing new can be made in it),
 * what it holds: pods without a grace period (throwaway test pods hold nothing to flush),
 * Services, and the controllers. The namespace controller would get to them only after its
 * fixed 5 s delay.
 */
export async function deleteNamespaceNow(kube: Kube, namespace: string): Promise<void> {
  await kube.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' });
  // Gone already, or a role narrower than rbac/ may not delete collections: the namespace controller removes those.
  const ignoreGone = (error: unknown) => {
    if (!isNotFound(error) && statusCode(error) !== 403) throw error;
  };
  await Promise.all([
    kube.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }).catch(ignoreGone),
    kube.core.deleteCollectionNamespacedService({ namespace }).catch(ignoreGone),
    kube.apps.deleteCollectionNamespacedDeployment({ namespace, propagationPolicy: 'Background' }).catch(ignoreGone),
    kube.apps.deleteCollectionNamespacedStatefulSet({ namespace, propagationPolicy: 'Background' }).catch(ignoreGone),
  ]);
}

/** Namespaces and cluster-scoped objects matching a label selector. */
async function listRunObjects(kube: Kube, selector: string, kinds: Kind[]): Promise<RunObject[]> {
  const toObject =
    (kind: string, group: string, version: string, plural: string) =>
    (m: k8s.V1ObjectMeta | undefined): RunObject => ({
      kind,
      group,
      version,
      plural,
      name: m?.name ?? '',
      runId: m?.labels?.[RUN_ID_LABEL] ?? '',
      createdAt: new Date(m?.creationTimestamp ?? Date.now()),
      terminating: !!m?.deletionTimestamp,
    });
  const namespaces = (await kube.core.listNamespace({ labelSelector: selector })).items.map((n) =>
    toObject('Namespace', '', 'v1', 'namespaces')(n.metadata),
  );
  const custom = kube.config.makeApiClient(k8s.CustomObjectsApi);
  const others = await Promise.all(
    kinds.map(async (r) => {
      // A kind these credentials may not list (a user bound to rbac/ only) is one no run of theirs made.
      const forbidden = (error: unknown) => {
        if (statusCode(error) === 403) return [];
        throw error;
      };
      if (r.group === '') {
        const list = await kube.objects
          .list(r.version, r.kind, undefined, undefined, undefined, undefined, undefined, selector)
          .catch(forbidden);
        return 'items' in list ? list.items.map((i) => toObject(r.kind, '', r.version, r.plural)(i.metadata)) : [];
      }
      const list = (await custom
        .listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, labelSelector: selector })
        .catch(forbidden)) as { items?: k8s.KubernetesObject[] };
      return (list.items ?? []).map((i) => toObject(r.kind, r.group, r.version, r.plural)(i.metadata));
    }),
  );
  return [...namespaces, ...others.flat()];
}

interface Kind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** Cluster-scoped kinds that can be listed and deleted (Namespaces and Nodes aside), by discovery. */
async function clusterScopedKinds(kube: Kube): Promise<Kind[]> {
  const usable = (r: k8s.V1APIResource) =>
    !r.namespaced &&
    !r.name.includes('/') &&
    r.verbs.includes('list') &&
    r.verbs.includes('delete') &&
    !['namespaces', 'nodes'].includes(r.name);
  const core = (await kube.core.getAPIResources()).resources
    .filter(usable)
    .map((r) => ({ group: '', version: 'v1', kind: r.kind, plural: r.name }));
  const groups = (await kube.config.makeApiClient(k8s.ApisApi).getAPIVersions()).groups;
  const custom = kube.config.makeApiClient(k8s.CustomObjectsApi);
  const perGroup = await Promise.all(
    groups.map(async (g) => {
      const version = g.preferredVersion?.version ?? g.versions[0].version;
      const list = await custom.getAPIResources({ group: g.name, version }).catch(() => undefined);
      return (list?.resources ?? [])
        .filter(usable)
        .map((r) => ({ group: g.name, version, kind: r.kind, plural: r.name }));
    }),
  );
  return [...core, ...perGroup.flat()];
}
