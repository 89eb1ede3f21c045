// A kubeconfig for a ServiceAccount with exactly the given cluster rights (none, or a few
// rules, or the shipped rbac/ role), built from a real token (TokenRequest): the RBAC cases
// of the bad-input tests, and the quick run as a least-privileged user.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../helpers/config.js';
import type { Kube } from '../helpers/kube/client.js';

export const RBAC_NAMESPACE = 'svc-cli-rbac';

export async function kubeconfigForServiceAccount(
  admin: Kube,
  name: string,
  rules: k8s.V1PolicyRule[],
): Promise<string> {
  await admin.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RBAC_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: RBAC_NAMESPACE } },
  );
  if (rules.length) {
    const role = `${RBAC_NAMESPACE}-${name}`;
    await admin.apply(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules,
      } as k8s.V1ClusterRole,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name, namespace: RBAC_NAMESPACE }],
      } as k8s.V1ClusterRoleBinding,
    );
  }
  return kubeconfigWithToken(admin, name, RBAC_NAMESPACE);
}

/**
 * A kubeconfig for the ServiceAccount the shipped rbac/ binds (svc-conformance/svc-conformance),
 * after applying rbac/clusterrole.yaml and rbac/binding.yaml as they are: a user with those rights only.
 */
export async function kubeconfigForShippedRole(admin: Kube): Promise<string> {
  for (const file of ['clusterrole.yaml', 'binding.yaml']) {
    const docs = parseAllDocuments(readFileSync(join(repoRoot, 'rbac', file), 'utf8')).map(
      (d) => d.toJSON() as k8s.KubernetesObject,
    );
    await admin.apply(...docs);
  }
  return kubeconfigWithToken(admin, 'svc-conformance', 'svc-conformance');
}

/** The same, written to a file of its own (context `svc-conformance`); returns its path. */
export async function shippedRoleKubeconfigFile(admin: Kube): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'svc-cli-rbac-')), 'kubeconfig');
  writeFileSync(file, await kubeconfigForShippedRole(admin), { mode: 0o600 });
  return file;
}

async function kubeconfigWithToken(admin: Kube, name: string, namespace: string): Promise<string> {
  const request = await admin.core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.config.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'cluster' }],
    users: [{ name, token: request.status!.token }],
    contexts: [{ name, cluster: 'cluster', user: name }],
    currentContext: name,
  });
  return kc.exportConfig();
}
