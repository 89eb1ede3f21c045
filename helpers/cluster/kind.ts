// The `kind` provider: a cluster made by the kind CLI (built by `npm run setup -- --kind`)
// from a config in kind-config/, its nodes Docker containers on the network svc-kind
// (setup/kind/network.sh: never masqueraded, nothing routes off it). The node image is the locally
// built one where setup made it, else upstream kindest/node for the pinned version.
// up() = kind create → kubeconfig to the node's address → pod network (local image) →
// CoreDNS without forwarding → nodes Ready → DNS answering and MetalLB (L2, its pool on the
// kind network: container-metallb.ts). Node commands: docker exec.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { versions } from '../config.js';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { waitForReadyNodes } from '../kube/nodes.js';
import {
  KIND_GUARD_TABLE,
  outsideClientName,
  containerAddress,
  containerNode,
  copyProbeInto,
  removeOutsideClient,
  requireDocker,
  requireNetwork,
  startOutsideClient,
  waitForDns,
  withoutForwarding,
} from './container-nodes.js';
import { CNI_NAME, installPodNetwork } from './kind/cni.js';
import {
  forLocalImage,
  ipFamiliesOf,
  LOCAL_IMAGE_REPO,
  proxyModeOf,
  readKindConfig,
  toYaml,
  withOptions,
  type KindCluster,
} from './kind/config.js';
import type { Settings } from '../settings.js';
import { checkPoolOnNetwork, containerLoadBalancerRanges, metallbImagesOnNodes } from './container-metallb.js';
import { installMetallb, metallbBuilt } from './metallb.js';
import type { ClusterHandle, ClusterOptions, ClusterProvider } from './provider.js';
import { keepHandle, reusableHandle } from './reuse.js';

export const DEFAULT_KIND_NAME = 'svc-kind';
export const DEFAULT_KIND_CONFIG = 'iptables';
const STATE_ROOT = '/var/lib/svc-conformance/kind';
/** Node logs of a cluster that did not come up (kind export logs); kept after down(). */
const FAILED_LOGS = '/var/lib/svc-conformance/kind-logs';
const LOCAL_NODE_IMAGE = `${LOCAL_IMAGE_REPO}/kind-node:${versions.kubernetes}`;
const UPSTREAM_NODE_IMAGE = `kindest/node:${versions.kubernetes}`;

export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;
  readonly defaultClusterName = DEFAULT_KIND_NAME;
  private readonly configName: string;

  constructor(private readonly settings: Settings) {
    this.configName = settings.run.kindConfig ?? DEFAULT_KIND_CONFIG;
  }

  /** kind runs its nodes as containers: a Docker engine must answer. */
  async check(): Promise<void> {
    await requireDocker('kind');
  }

  async isUp(options: ClusterOptions): Promise<boolean> {
    const { name, fingerprint } = await this.shape(options);
    return !!(await reusableHandle(STATE_ROOT, name, fingerprint));
  }

  /** The cluster's name, what it is made from, and the fingerprint a kept cluster must match. */
  private async shape(options: ClusterOptions) {
    const name = options.name ?? DEFAULT_KIND_NAME;
    const image = await nodeImage(this.settings);
    const base = withOptions(readKindConfig(this.configName), options.nodes, options.proxyMode);
    const config = image === LOCAL_NODE_IMAGE ? forLocalImage(base) : base;
    return { name, image, config, fingerprint: `${image}\n${toYaml(config)}` };
  }

  async up(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const kind = kindCommand(this.settings);
    const { name, image, config, fingerprint } = await this.shape(options);
    const kept = await reusableHandle(STATE_ROOT, name, fingerprint);
    if (kept) return kept;
    await requireNetwork('kind', '--kind', this.settings);
    if (metallbBuilt(this.settings))
      await checkPoolOnNetwork(this.settings, containerLoadBalancerRanges(this.settings, ipFamiliesOf(config)));
    await this.down(name);

    const dir = join(STATE_ROOT, name);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'kind.yaml');
    writeFileSync(
      configFile,
      `# ${this.configName}, as given to kind (provider additions included)\n${toYaml(config)}`,
    );
    const kubeconfig = join(dir, 'kubeconfig');
    try {
      await run(
        kind,
        [
          'create',
          'cluster',
          '--name',
          name,
          '--config',
          configFile,
          '--image',
          image,
          '--kubeconfig',
          kubeconfig,
          '--retain',
        ],
        {
          env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: this.settings.kind.network },
          timeoutMs: 10 * 60_000,
          where: `(kind create cluster ${name}; node logs: ${kind} export logs --name ${name})`,
        },
      );
      const handle = await this.finish(name, kubeconfig, config);
      keepHandle(STATE_ROOT, name, handle, fingerprint);
      return handle;
    } catch (error) {
      const logs = join(FAILED_LOGS, name);
      await run(kind, ['export', 'logs', logs, '--name', name], { allowFailure: true, timeoutMs: 120_000 });
      if (!this.settings.keepFailed) await this.down(name).catch(() => undefined);
      throw new Error(`kind cluster "${name}" did not come up: ${(error as Error).message} (node logs in ${logs})`, {
        cause: error,
      });
    }
  }

  async down(name = DEFAULT_KIND_NAME): Promise<void> {
    await removeOutsideClient(outsideClientName(name));
    if (existsSync(kindCommand(this.settings, false)))
      await run(kindCommand(this.settings), ['delete', 'cluster', '--name', name], { timeoutMs: 180_000 });
    rmSync(join(STATE_ROOT, name), { recursive: true, force: true });
  }

  /** After `kind create`: API by the node's address, pod network, CoreDNS, readiness. */
  private async finish(name: string, kubeconfig: string, config: KindCluster): Promise<ClusterHandle> {
    const controlPlane = `${name}-control-plane`;
    const families = ipFamiliesOf(config);
    const address = await containerAddress(controlPlane, families[0], this.settings.kind.network);
    pointKubeconfigAt(kubeconfig, address.includes(':') ? `https://[${address}]:6443` : `https://${address}:6443`);
    const kube = new Kube(kubeconfig);
    const nodeCount = config.nodes?.length ?? 1;
    const budget = this.settings.timeouts.clusterUp;
    if (config.networking?.disableDefaultCNI) await installPodNetwork(kube, nodeCount, budget);
    // Both nodes of a two-node cluster take pods, as the local provider's do: the
    // cross-node checks need backends on each.
    if (nodeCount > 1)
      await run('docker', [
        'exec',
        controlPlane,
        'kubectl',
        '--kubeconfig=/etc/kubernetes/admin.conf',
        'taint',
        'nodes',
        controlPlane,
        'node-role.kubernetes.io/control-plane:NoSchedule-',
      ]);
    await withoutForwarding(kube, 'kind', this.settings);
    const nodes = await waitForReadyNodes(kube, nodeCount, `all ${nodeCount} kind nodes Ready`, budget);
    // kind names each node container after its node.
    const containers = nodes.map((n) => n.metadata!.name!);
    await copyProbeInto(containers, this.settings);
    const dns = await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    const dnsIP = dns.spec!.clusterIP!;
    // MetalLB (when setup built it) while CoreDNS comes up, as on local clusters: L2, each family's kind pool.
    const pools = containerLoadBalancerRanges(this.settings, families);
    const withMetallb = metallbBuilt(this.settings) && (await metallbImagesOnNodes(containers, this.settings));
    await Promise.all([
      waitForDns(controlPlane, dnsIP, this.settings),
      withMetallb && installMetallb(kubeconfig, this.settings, pools, nodeCount),
    ]);
    const outside = await startOutsideClient(outsideClientName(name), families[0], this.settings);
    const external = withMetallb ? { ...outside, loadBalancerIPRange: pools[0], loadBalancerIPRanges: pools } : outside;
    return {
      provider: 'kind',
      name,
      kubeconfig,
      nodeAccess: 'docker-exec',
      capabilities: {
        kubernetesVersion: versions.kubernetes,
        proxyMode: proxyModeOf(config),
        cni: config.networking?.disableDefaultCNI ? CNI_NAME : 'kindnet',
        ipFamilies: families,
        nodeCount,
        clusterDomain: this.settings.network.clusterDomain,
        dnsIP,
      },
      nodes: nodes.map((n) => containerNode(n, n.metadata!.name!)),
      external,
      guard: { kind: 'host-table', table: KIND_GUARD_TABLE },
    };
  }
}

/** The kind binary setup built for the pinned version, else SVC_KIND or `kind` on PATH. */
function kindCommand(settings: Settings, required = true): string {
  const built = join(settings.cacheDir, 'bin', `kind-${versions.kind}`, 'kind');
  const chosen = settings.kind.binary || (existsSync(built) ? built : 'kind');
  if (required && chosen === 'kind' && !settings.searchPath.some((d) => existsSync(join(d, 'kind')))) {
    throw new UsageError(
      `the kind provider needs the kind CLI ${versions.kind}: run \`npm run setup -- --kind\` (builds it into ${built})`,
    );
  }
  return chosen;
}

/** SVC_KIND_NODE_IMAGE, else the locally built image when Docker has it, else upstream's. */
async function nodeImage(settings: Settings): Promise<string> {
  if (settings.kind.nodeImage) return settings.kind.nodeImage;
  const local = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', LOCAL_NODE_IMAGE], { allowFailure: true });
  return local.exitCode === 0 ? LOCAL_NODE_IMAGE : UPSTREAM_NODE_IMAGE;
}

/** kind's kubeconfig names a port Docker publishes on 127.0.0.1; the node's own address needs no proxy. */
function pointKubeconfigAt(file: string, server: string): void {
  const config = parse(readFileSync(file, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = server;
  writeFileSync(file, toYaml(config), { mode: 0o600 });
}
