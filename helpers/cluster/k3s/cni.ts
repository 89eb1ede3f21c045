// The pod network of a k3s node made from the locally built image, in place of flannel (its
// CNI plugin's module is not on the Go module proxy, so setup cannot build it): k3s runs with
// --flannel-backend=none and the node gets the CNI bridge plugin with host-local addresses
// from its podCIDR, hairpin on (what flannel's own config delegates to on one node). Written
// through `docker exec` once the controller-manager gave the node its podCIDR; Ready follows.
// An image says it needs this with the label below (setup/k3s/build-image.sh sets it).
import { run } from '../../host/run.js';
import type { Kube } from '../../kube/client.js';
import { waitFor } from '../../kube/wait.js';

export const BRIDGE_CNI_LABEL = 'svc-conformance.k3s.cni';
export const BRIDGE_CNI_NAME = 'bridge (svc-conformance)';
/** Without flannel k3s names no CNI directories, so containerd reads its defaults (plugins: /opt/cni/bin). */
const CONFLIST = '/etc/cni/net.d/10-svc-conformance.conflist';

export function bridgeConflist(podCIDR: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'svc-conformance',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: podCIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** Whether the image runs without flannel and wants the bridge network (its label says so). */
export async function wantsBridgeNetwork(image: string): Promise<boolean> {
  const r = await run('docker', ['image', 'inspect', '-f', `{{index .Config.Labels "${BRIDGE_CNI_LABEL}"}}`, image], {
    allowFailure: true,
  });
  return r.stdout.trim() === 'bridge';
}

/** Writes the bridge config into the node container once the node has its podCIDR. */
export async function installBridgeNetwork(kube: Kube, container: string, budgetMs: number): Promise<void> {
  const podCIDR = await waitFor(`podCIDR on k3s node ${container}`, budgetMs, async () => {
    const cidr = (await kube.core.listNode()).items[0]?.spec?.podCIDR;
    return { done: Boolean(cidr), seen: cidr ?? 'none yet', value: cidr };
  });
  await run(
    'docker',
    ['exec', '-i', container, 'sh', '-c', `mkdir -p ${CONFLIST.replace(/\/[^/]+$/, '')} && cat > ${CONFLIST}`],
    {
      input: bridgeConflist(podCIDR!),
    },
  );
}
