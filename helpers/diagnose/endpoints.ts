// Why a Service has no endpoints, in the guide's terms: no selector, a selector that
// matches no pods (with the labels the pods do carry), or matched pods that are not ready.
import type * as k8s from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { formatSelector, podsSelectedBy } from '../kube/services.js';
import { isPodReady } from '../kube/pods.js';

export async function explainNoEndpoints(kube: Kube, service: k8s.V1Service): Promise<string> {
  const id = `Service ${service.metadata?.namespace}/${service.metadata?.name}`;
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0)
    return `${id} has no selector: its Endpoints are managed by hand`;
  const { selected, all } = await podsSelectedBy(kube, service);
  if (selected.length === 0) {
    const labels = [...new Set(all.map((p) => formatSelector(p.metadata?.labels)))];
    return `${id} has no endpoints: its selector ${formatSelector(selector)} matches no pods (pods here are labelled ${labels.join(' / ') || 'nothing: the namespace has no pods'})`;
  }
  const unready = selected.filter((p) => !isPodReady(p));
  if (unready.length === selected.length)
    return `${id} has no ready endpoints: the ${selected.length} pods its selector matches are not Ready (${unready.map((p) => p.metadata?.name).join(', ')})`;
  return `${id}: its selector matches ${selected.length} pods, ${selected.length - unready.length} ready`;
}
