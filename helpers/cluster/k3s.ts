// The `k3s` provider: one k3s server (which is also its node) in a Docker container made by
// @testcontainers/k3s `K3sContainer`, on the network svc-kind (setup/kind/network.sh: never
// masqueraded, nothing routes off it). Image: helpers/cluster/k3s/image.ts (SVC_K3S_IMAGE, the
// one `npm run setup -- --k3s` builds, or upstream rancher/k3s); never pulled.
// up() = container → kubeconfig to its address → (local image) bridge pod network → CoreDNS
// without forwarding → node Ready → DNS answering and MetalLB (L2, its pool on the kind network:
// container-metallb.ts; k3s's own ServiceLB is off). Node commands: docker exec. down() = the container's stop() (volumes too).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// testcontainers is loaded when a k3s cluster is made, not with every command (~0.8 s).
import type { StartedK3sContainer } from '@testcontainers/k3s';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { waitForReadyNodes } from '../kube/nodes.js';
import {
  containerNode,
  outsideClientName,
  removeOutsideClient,
  startOutsideClient,
  copyProbeInto,
  KIND_GUARD_TABLE,
  requireDocker,
  requireNetwork,
  waitForDns,
  withoutForwarding,
} from './container-nodes.js';
import { checkPoolOnNetwork, containerLoadBalancerRanges, metallbImagesOnNodes } from './container-metallb.js';
import { BRIDGE_CNI_NAME, installBridgeNetwork, wantsBridgeNetwork } from './k3s/cni.js';
import { CONTAINERD_CONFIG_TEMPLATE } from './k3s/containerd-template.js';
import { requireK3sImage } from './k3s/image.js';
import { CONTAINERD_TEMPLATE, RESOLV_CONF, resolvConf, serverArgs } from './k3s/server-args.js';
import { prepareTestcontainers, type Settings } from '../settings.js';
import { installMetallb, metallbBuilt } from './metallb.js';
import type { ClusterHandle, ClusterOptions, ClusterProvider } from './provider.js';
import { keepHandle, reusableHandle } from './reuse.js';

export const DEFAULT_K3S_NAME = 'svc';
/** Every container this provider makes is named svc-k3s-<cluster name>. */
export const containerName = (name: string) => `svc-k3s-${name}`;
const STATE_ROOT = '/var/lib/svc-conformance/k3s';

export class K3sProvider implements ClusterProvider {
  readonly name = 'k3s' as const;
  readonly defaultClusterName = DEFAULT_K3S_NAME;
  private readonly started = new Map<string, StartedK3sContainer>();

  constructor(private readonly settings: Settings) {}

  /** k3s runs in a container of the local Docker engine, from an image that is never pulled. */
  async check(): Promise<void> {
    await requireDocker('k3s');
    await requireK3sImage(this.settings);
  }

  async isUp(options: ClusterOptions): Promise<boolean> {
    const { name, fingerprint } = await this.shape(options);
    return !!(await reusableHandle(STATE_ROOT, name, fingerprint));
  }

  /** The cluster's name, image and server arguments, and the fingerprint a kept cluster must match. */
  private async shape(options: ClusterOptions) {
    const name = options.name ?? DEFAULT_K3S_NAME;
    if ((options.nodes ?? 1) !== 1) {
      throw new UsageError(
        `the k3s provider makes one node, not ${options.nodes}; drop --nodes, or use --provider local or kind for more`,
      );
    }
    if (options.proxyMode === 'ipvs') {
      throw new UsageError(
        'the k3s provider runs kube-proxy in iptables or nftables mode (this machine has no IP_VS); choose --proxy-mode iptables or nftables',
      );
    }
    const proxyMode = options.proxyMode ?? 'iptables';
    const image = await requireK3sImage(this.settings);
    const bridge = await wantsBridgeNetwork(image);
    const clusterDomain = this.settings.network.clusterDomain;
    const args = serverArgs({ nodeName: containerName(name), proxyMode, clusterDomain, withoutFlannel: bridge });
    return { name, proxyMode, image, bridge, args, fingerprint: `${image}\n${args.join(' ')}` };
  }

  async up(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const { name, proxyMode, image, bridge, args, fingerprint } = await this.shape(options);
    const kept = await reusableHandle(STATE_ROOT, name, fingerprint);
    if (kept) return kept;
    await requireNetwork('k3s', '--k3s', this.settings);
    if (metallbBuilt(this.settings))
      await checkPoolOnNetwork(this.settings, containerLoadBalancerRanges(this.settings, ['IPv4']));
    await this.down(name);

    // testcontainers' reaper (Ryuk) is an image no one can pull here (down() removes the container), and
    // it must reach the node by its address on the kind network, not through Docker's default bridge.
    prepareTestcontainers();
    const network = this.settings.kind.network;
    const dir = join(STATE_ROOT, name);
    mkdirSync(dir, { recursive: true });
    let container: StartedK3sContainer | undefined;
    try {
      const [{ K3sContainer }, { Wait }] = await Promise.all([import('@testcontainers/k3s'), import('testcontainers')]);
      container = await new K3sContainer(image)
        .withName(containerName(name))
        .withNetworkMode(network)
        .withCommand(args)
        .withLabels({ 'svc-conformance.io/provider': 'k3s', 'svc-conformance.io/cluster': name })
        .withCopyContentToContainer([
          { content: resolvConf(), target: RESOLV_CONF },
          { content: CONTAINERD_CONFIG_TEMPLATE, target: CONTAINERD_TEMPLATE },
        ])
        // K3sContainer waits for a cloud-provider line that upstream Kubernetes v1.34 no longer logs;
        // k3s's own "up and running" comes once the API server answers.
        .withWaitStrategy(Wait.forLogMessage(/Node controller sync successful|k3s is up and running/))
        .withStartupTimeout(this.settings.timeouts.clusterUp)
        .start();
      this.started.set(name, container);
      const address = container.getIpAddress(network);
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, container.getAliasedKubeConfig(address), { mode: 0o600 });
      const handle = await finish(name, kubeconfig, proxyMode, bridge, this.settings);
      keepHandle(STATE_ROOT, name, handle, fingerprint);
      return handle;
    } catch (error) {
      const logs = join(dir, 'k3s.log');
      await run('docker', ['logs', '--tail', '400', containerName(name)], { allowFailure: true }).then((r) =>
        writeFileSync(logs, r.stdout + r.stderr),
      );
      const kept = this.settings.keepFailed;
      if (!kept) await this.down(name).catch(() => undefined);
      throw new Error(
        `k3s cluster "${name}" (${image}) did not come up: ${(error as Error).message} (k3s log: ${kept ? logs : `docker logs ${containerName(name)}, last lines kept in ${logs}`})`,
        { cause: error },
      );
    }
  }

  /** Stops and removes the container with its volumes; by name when another process made it. */
  async down(name = DEFAULT_K3S_NAME): Promise<void> {
    await removeOutsideClient(outsideClientName(containerName(name)));
    const container = this.started.get(name);
    this.started.delete(name);
    if (container) await container.stop({ remove: true, removeVolumes: true });
    else
      await run('docker', ['rm', '--force', '--volumes', containerName(name)], {
        allowFailure: true,
        timeoutMs: 120_000,
      });
    rmSync(join(STATE_ROOT, name), { recursive: true, force: true }); // state and kubeconfig: nothing of it is left
  }
}

/** After the container is up: CoreDNS without forwarding, node Ready, the probe, DNS answering. */
async function finish(
  name: string,
  kubeconfig: string,
  proxyMode: 'iptables' | 'nftables',
  bridge: boolean,
  settings: Settings,
): Promise<ClusterHandle> {
  const kube = new Kube(kubeconfig);
  const budget = settings.timeouts.clusterUp;
  if (bridge) await installBridgeNetwork(kube, containerName(name), budget);
  await withoutForwarding(kube, 'k3s', settings);
  const [node] = await waitForReadyNodes(kube, 1, `k3s node ${containerName(name)} Ready`, budget);
  await copyProbeInto([containerName(name)], settings);
  const dnsIP = (await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' })).spec!
    .clusterIP!;
  // MetalLB (when setup built it) while CoreDNS comes up, as on kind: L2, the kind network's pool.
  const pools = containerLoadBalancerRanges(settings, ['IPv4']);
  const withMetallb = metallbBuilt(settings) && (await metallbImagesOnNodes([containerName(name)], settings));
  await Promise.all([
    waitForDns(containerName(name), dnsIP, settings),
    withMetallb && installMetallb(kubeconfig, settings, pools, 1),
  ]);
  const outside = await startOutsideClient(outsideClientName(containerName(name)), 'IPv4', settings);
  const external = withMetallb ? { ...outside, loadBalancerIPRange: pools[0], loadBalancerIPRanges: pools } : outside;
  return {
    provider: 'k3s',
    name,
    kubeconfig,
    nodeAccess: 'docker-exec',
    capabilities: {
      kubernetesVersion: node.status!.nodeInfo!.kubeletVersion,
      proxyMode,
      cni: bridge ? BRIDGE_CNI_NAME : 'flannel',
      ipFamilies: ['IPv4'],
      nodeCount: 1,
      clusterDomain: settings.network.clusterDomain,
      dnsIP,
    },
    nodes: [containerNode(node, containerName(name))],
    external,
    guard: { kind: 'host-table', table: KIND_GUARD_TABLE },
  };
}
