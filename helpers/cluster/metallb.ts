// MetalLB, the LoadBalancer implementation of the clusters this project makes (local and kind):
// upstream's own install manifest (metallb-native.yaml, copied by setup from the pinned module)
// with the images built here, in L2 mode, handing out addresses from the provider's test range.
// Its validating webhook is left out: the API server of the local cluster runs on the host,
// which routes no pod or Service address, so it could never call it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { versions } from '../config.js';
import { Kube } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import type { Settings } from '../settings.js';

export const METALLB_NAMESPACE = 'metallb-system';
/** The pool every LoadBalancer Service of ours gets its address from, and its L2 announcement. */
export const METALLB_POOL = 'svc-conformance';
export const METALLB_IMAGE_ARCHIVES = ['metallb-controller', 'metallb-speaker'] as const;
/** The interface the speakers answer ARP/NDP on: the node's leg of the nodes' segment (local and kind alike). */
const NODE_INTERFACE = 'eth0';

type Manifest = k8s.KubernetesObject & { spec?: Record<string, unknown> };
type PodTemplated = { spec: { template: { spec: k8s.V1PodSpec } } };

/** Upstream's manifest as setup left it, or a line saying how to get it. */
export function metallbManifestPath(settings: Settings): string {
  return join(settings.cacheDir, 'bin', `metallb-${versions.metallb}`, 'metallb-native.yaml');
}

export function metallbBuilt(settings: Settings): boolean {
  return existsSync(metallbManifestPath(settings));
}

/** MetalLB's objects with our images and no webhook, then the pool of `ranges` announced in L2 mode. */
export function metallbObjects(settings: Settings, ranges: string[]): { install: Manifest[]; pool: Manifest[] } {
  const docs = parseAllDocuments(readFileSync(metallbManifestPath(settings), 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => !!o && o.kind !== 'ValidatingWebhookConfiguration');
  for (const object of docs) {
    // BGPPeer's version conversion is a webhook too; nothing here uses BGP.
    if (object.kind === 'CustomResourceDefinition') delete object.spec!.conversion;
    if (object.kind === 'Deployment' || object.kind === 'DaemonSet') {
      const container = (object as unknown as PodTemplated).spec.template.spec.containers[0];
      if (object.kind === 'Deployment') {
        container.image = settings.images.metallbController;
        container.args = [...(container.args ?? []), '--webhook-mode=disabled'];
      } else {
        container.image = settings.images.metallbSpeaker;
      }
      container.imagePullPolicy = 'Never';
      // Upstream waits 10 s, then looks every 10 s: ready (and the cluster up) a second after /metrics answers.
      if (container.readinessProbe)
        Object.assign(container.readinessProbe, { initialDelaySeconds: 0, periodSeconds: 1 });
    }
  }
  const meta = { name: METALLB_POOL, namespace: METALLB_NAMESPACE };
  const pool: Manifest[] = [
    // avoidBuggyIPs: no .0 or .255 (a network or broadcast address to some clients).
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: meta,
      spec: { addresses: ranges, avoidBuggyIPs: true },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'L2Advertisement',
      metadata: meta,
      spec: { ipAddressPools: [METALLB_POOL], interfaces: [NODE_INTERFACE] },
    },
  ];
  return { install: docs, pool };
}

/**
 * Installs MetalLB and its pool, and returns once the controller and a speaker on every node
 * are ready (their images are on the nodes already: imported, never pulled).
 */
export async function installMetallb(
  kubeconfig: string,
  settings: Settings,
  ranges: string[],
  nodeCount: number,
): Promise<void> {
  const { install, pool } = metallbObjects(settings, ranges);
  const kube = new Kube(kubeconfig);
  await kube.apply(...install);
  const budget = settings.timeouts.clusterUp;
  const crds = install.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata!.name!);
  await waitFor(`MetalLB's ${crds.length} CRDs established`, budget, async () => {
    const list = await new Kube(kubeconfig).objects.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    const established = (list.items as k8s.V1CustomResourceDefinition[])
      .filter((c) => c.status?.conditions?.some((s) => s.type === 'Established' && s.status === 'True'))
      .map((c) => c.metadata!.name!);
    const missing = crds.filter((c) => !established.includes(c));
    return { done: missing.length === 0, seen: `not yet: ${missing.join(', ')}` };
  });
  // A new client: the first one's discovery predates the CRDs.
  await new Kube(kubeconfig).apply(...pool);
  await waitFor(`MetalLB's controller and ${nodeCount} speaker(s) ready`, budget, async () => {
    const pods = (await kube.core.listNamespacedPod({ namespace: METALLB_NAMESPACE })).items;
    const ready = (component: string) =>
      pods.filter(
        (p) =>
          p.metadata?.labels?.component === component &&
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
    const [controller, speakers] = [ready('controller'), ready('speaker')];
    return {
      done: controller >= 1 && speakers >= nodeCount,
      seen: `controller ${controller}/1, speakers ${speakers}/${nodeCount} ready`,
    };
  });
}
