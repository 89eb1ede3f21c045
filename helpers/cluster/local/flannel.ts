// flannel on the local cluster (--cni flannel): flanneld runs in each node's namespaces with the kube
// subnet manager (a node's lease is its spec.podCIDR, its VTEP in the node's annotations) and the
// VXLAN backend, so pod traffic between nodes crosses flannel.1, encapsulated in UDP 8472 on the
// nodes' segment. The node's CNI config is what flannel's CNI plugin (flannel-io/cni-plugin, which
// the Go module proxy does not serve) would hand its delegate from subnet.env: bridge + host-local.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../../config.js';
import { parseSubnetEnv, type SubnetEnv } from '../../parse/subnet-env.js';
import type { Settings } from '../../settings.js';
import { waitFor } from '../../kube/wait.js';
import type { ProxyMode } from '../provider.js';
import { SetupMissingError } from './artifacts.js';
import type { ClusterLayout, NodeLayout } from './layout.js';

/** flannel's VXLAN defaults: VNI 1 names the device; 8472 is the Linux kernel's VXLAN port, which flannel keeps. */
export const FLANNEL_DEVICE = 'flannel.1';
export const FLANNEL_VXLAN_PORT = 8472;
/** flannel's CNI network name in kube-flannel.yml (cni-conf.json). */
const CNI_NETWORK = 'cbr0';

/** flanneld as `npm run setup` built it (setup/build-go.sh flannel). */
export function findFlanneld({ cacheDir }: Settings): string {
  const path = join(cacheDir, 'bin', `flannel-${versions.flannel}`, 'flanneld');
  if (!existsSync(path)) throw new SetupMissingError(`flanneld ${versions.flannel} (${path})`, cacheDir);
  return path;
}

/** Where one node's flannel files live: per node, since every node shares this machine's filesystem. */
export function flannelFiles(node: NodeLayout): { netConf: string; subnetFile: string } {
  return {
    netConf: join(node.stateDir, 'flannel', 'net-conf.json'),
    subnetFile: join(node.runDir, 'flannel', 'subnet.env'),
  };
}

/** kube-flannel's net-conf.json: the cluster's pod range, VXLAN; flannel's own rules in nftables when kube-proxy's are. */
export function flannelNetConf(layout: ClusterLayout, mode: ProxyMode): string {
  return JSON.stringify(
    { Network: layout.nets.IPv4.podCIDR, Backend: { Type: 'vxlan' }, EnableNFTables: mode === 'nftables' },
    null,
    2,
  );
}

/**
 * flanneld's command line as kube-flannel.yml runs it (--ip-masq --kube-subnet-mgr), with the files
 * it would find in its pod given per node. NODE_NAME is what the DaemonSet sets from spec.nodeName.
 */
export function flanneldCommand(
  node: NodeLayout,
  flanneld: string,
  kubeconfig: string,
): { command: string; args: string[] } {
  const files = flannelFiles(node);
  return {
    command: 'env',
    args: [
      `NODE_NAME=${node.name}`,
      flanneld,
      '--ip-masq',
      '--kube-subnet-mgr',
      `--kubeconfig-file=${kubeconfig}`,
      '--iface=eth0',
      `--net-config-path=${files.netConf}`,
      `--subnet-file=${files.subnetFile}`,
      '-v=1',
    ],
  };
}

/** Once flanneld holds its lease and made flannel.1, it writes subnet.env: the node's pods can be given a network. */
export async function waitForSubnetEnv(node: NodeLayout, budgetMs: number): Promise<SubnetEnv> {
  const file = flannelFiles(node).subnetFile;
  return waitFor(`flanneld of ${node.name} writing ${file}`, budgetMs, () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    const env = text === undefined ? undefined : parseSubnetEnv(text);
    return Promise.resolve({ done: !!env, seen: text ?? 'no file yet', value: env });
  });
}

/**
 * The conflist flannel's CNI plugin makes from subnet.env for its delegate (kube-flannel's
 * cni-conf.json: `{"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}}`):
 * bridge cni0 with flannel's MTU, ipMasq only when flanneld does not masquerade, host-local over
 * the node's lease with a route to the whole pod network. One difference: host-local keeps its
 * leases per node (dataDir), as every node here shares one filesystem.
 */
export function flannelCniConfig(env: SubnetEnv, node: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: CNI_NETWORK,
      plugins: [
        {
          type: 'bridge',
          name: CNI_NETWORK,
          bridge: 'cni0',
          isGateway: true,
          isDefaultGateway: true,
          hairpinMode: true,
          ipMasq: !env.ipMasq,
          mtu: env.mtu,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: env.subnet }]],
            routes: [{ dst: env.network }],
            dataDir: `${node.stateDir}/cni-ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}
