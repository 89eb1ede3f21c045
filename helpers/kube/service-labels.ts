// Labels changed on a live Service (read, change, replace: a concurrent writer makes it fail, not
// lose its change): how a check switches behaviour that kube-proxy keys on labels, such as its
// opt-out labels service.kubernetes.io/service-proxy-name and service.kubernetes.io/headless.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from './client.js';

/** Sets each label to its value, or removes it where the value is null; returns the Service as written. */
export async function setServiceLabels(
  kube: Kube,
  namespace: string,
  name: string,
  labels: Record<string, string | null>,
): Promise<k8s.V1Service> {
  const service = await kube.core.readNamespacedService({ namespace, name });
  const current = { ...(service.metadata!.labels ?? {}) };
  for (const [key, value] of Object.entries(labels)) {
    if (value === null) delete current[key];
    else current[key] = value;
  }
  service.metadata!.labels = current;
  return kube.core.replaceNamespacedService({ namespace, name, body: service });
}
