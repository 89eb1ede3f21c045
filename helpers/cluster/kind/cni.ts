// The pod network of a kind cluster made from the locally built node image, in place of
// kindnetd (an image we do not build): on each node the CNI ptp plugin (what kindnetd uses
// too) with host-local addresses from the node's podCIDR, and a route to every other
// node's podCIDR via that node's address. Written through `docker exec` once the
// controller-manager has given every node its podCIDR; the nodes turn Ready then.
import type * as k8s from '@kubernetes/client-node';
import { run } from '../../host/run.js';
import type { Kube } from '../../kube/client.js';
import { internalIPs } from '../../kube/nodes.js';
import { waitFor } from '../../kube/wait.js';

export const CNI_NAME = 'ptp (svc-conformance)';
const CONFLIST = '/etc/cni/net.d/10-svc-conformance.conflist';

export function ptpConflist(podCIDRs: string[]): string {
  const ranges = podCIDRs.map((subnet) => [{ subnet }]);
  const routes = podCIDRs.map((cidr) => ({ dst: cidr.includes(':') ? '::/0' : '0.0.0.0/0' }));
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'svc-conformance',
      plugins: [
        {
          type: 'ptp',
          ipMasq: false,
          mtu: 1500,
          ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', ranges, routes },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

interface NodeNet {
  name: string;
  podCIDRs: string[];
  addresses: string[];
}

/** Installs the CNI config and the cross-node routes on every node (container = node name). */
export async function installPodNetwork(kube: Kube, nodeCount: number, budgetMs: number): Promise<void> {
  const nodes = await waitFor(`podCIDR on all ${nodeCount} kind nodes`, budgetMs, async () => {
    const list = (await kube.core.listNode()).items.map(nodeNet);
    const ready = list.filter((n) => n.podCIDRs.length > 0);
    return {
      done: list.length === nodeCount && ready.length === nodeCount,
      seen: `${ready.length}/${list.length} with a podCIDR`,
      value: list,
    };
  });
  for (const node of nodes) {
    await run('docker', ['exec', '-i', node.name, 'sh', '-c', `mkdir -p /etc/cni/net.d && cat > ${CONFLIST}`], {
      input: ptpConflist(node.podCIDRs),
    });
    for (const other of nodes.filter((n) => n !== node)) {
      for (const cidr of other.podCIDRs) {
        const via = other.addresses.find((a) => a.includes(':') === cidr.includes(':'));
        if (via) await run('docker', ['exec', node.name, 'ip', 'route', 'replace', cidr, 'via', via]);
      }
    }
  }
}

function nodeNet(node: k8s.V1Node): NodeNet {
  return {
    name: node.metadata!.name!,
    podCIDRs: node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []),
    addresses: internalIPs(node),
  };
}
