// The `local` provider: a real Kubernetes cluster run as processes on this machine, each
// node its own network namespace, built by `npm run setup` with no image registry.
// up() = network → certificates → containerd → etcd → apiserver → controller-manager,
// scheduler → kubelet, kube-proxy → nodes Ready → CoreDNS answering.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { versions } from '../config.js';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { waitForReadyNodes } from '../kube/nodes.js';
import { waitFor } from '../kube/wait.js';
import { findArtifacts, type Artifacts } from './local/artifacts.js';
import {
  containerdConfig,
  containerdSocket,
  cniConfig,
  kubeconfig,
  kubeletConfig,
  kubeProxyConfig,
} from './local/configs.js';
import { apiserverArgs, importImages, serviceRanges, unmountBelow, waitForDns } from './local/bootstrap.js';
import { corednsObjects } from './local/coredns.js';
import { createCgroup, killCgroupTree, startDaemon, stopDaemons, type Daemon } from './local/daemons.js';
import {
  APISERVER_PORT,
  CGROUP_PARENT,
  clusterLayout,
  FAMILIES_OF,
  familyNets,
  primaryNet,
  STATE_ROOT,
  type ClusterLayout,
  type NodeLayout,
} from './local/layout.js';
import { createNetwork, destroyNetwork } from './local/network.js';
import {
  findFlanneld,
  flanneldCommand,
  flannelCniConfig,
  flannelFiles,
  flannelNetConf,
  waitForSubnetEnv,
} from './local/flannel.js';
import { installMetallb } from './metallb.js';
import { createPki, type Pki } from './local/pki.js';
import type { CniChoice, Settings } from '../settings.js';
import {
  ZONE_LABEL,
  type ClusterHandle,
  type ClusterOptions,
  type ClusterProvider,
  type ProxyMode,
} from './provider.js';

export const DEFAULT_LOCAL_NAME = 'svc';

interface LocalState {
  handle: ClusterHandle;
  daemons: Daemon[];
  /** Which build of the images the nodes imported: a cluster with older images is not reused. */
  imagesKey: string;
}

export class LocalProvider implements ClusterProvider {
  readonly name = 'local' as const;
  readonly defaultClusterName = DEFAULT_LOCAL_NAME;
  private daemons: Daemon[] = [];

  constructor(private readonly settings: Settings) {}

  /** Setup built what the cluster runs (one line naming what is missing and `npm run setup` otherwise). */
  // eslint-disable-next-line @typescript-eslint/require-await -- async: what is missing rejects, as the other providers' checks (which ask Docker) do
  async check(): Promise<void> {
    findArtifacts(this.settings, this.settings.run.kubernetes);
  }

  async up(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const name = options.name ?? DEFAULT_LOCAL_NAME;
    const nodeCount = options.nodes ?? 1;
    const mode = options.proxyMode ?? 'iptables';
    requireLocalHost(mode);
    const kubernetes = options.kubernetes ?? versions.kubernetes;
    const artifacts = findArtifacts(this.settings, kubernetes);
    const layout = clusterLayout(name, nodeCount, this.settings, options.ipFamily);
    const cni = options.cni ?? 'bridge';
    if (cni === 'flannel' && layout.families.join() !== 'IPv4')
      throw new UsageError(
        `--cni flannel runs IPv4 only here; drop --ip-family ${options.ipFamily} or use --cni bridge`,
      );
    if (cni === 'flannel') findFlanneld(this.settings);

    if (await this.isUp(options)) return readState(name)!.handle;
    await this.down(name);

    try {
      return await this.create(layout, mode, artifacts, kubernetes, options.zones ?? 0, cni);
    } catch (error) {
      const logs = layout.logDir;
      await this.down(name).catch(() => undefined);
      throw new Error(
        `local cluster "${name}" did not come up: ${error instanceof Error ? error.message : error} (component logs were in ${logs})`,
        { cause: error },
      );
    }
  }

  /** A healthy cluster of this name and shape is running now (up() would reuse it). */
  async isUp(options: ClusterOptions = {}): Promise<boolean> {
    const state = readState(options.name ?? DEFAULT_LOCAL_NAME);
    return (
      !!state &&
      sameShape(state.handle, options) &&
      state.imagesKey === imagesKey(this.settings) &&
      (await this.healthy(state))
    );
  }

  async down(name = DEFAULT_LOCAL_NAME): Promise<void> {
    const layout = clusterLayout(name, 8, this.settings); // every node this cluster could have had
    const state = readState(name);
    await stopDaemons([...(state?.daemons ?? []), ...this.daemons].reverse());
    this.daemons = [];
    await killCgroupTree(`/${CGROUP_PARENT}/${name}`);
    await unmountBelow([layout.stateDir, layout.runDir]);
    await rm(layout.runDir, { recursive: true, force: true });
    await rm(layout.stateDir, { recursive: true, force: true });
    await destroyNetwork(layout);
  }

  private async create(
    layout: ClusterLayout,
    mode: ProxyMode,
    artifacts: Artifacts,
    kubernetes: string,
    zones: number,
    cni: CniChoice,
  ): Promise<ClusterHandle> {
    for (const dir of [layout.logDir, ...layout.nodes.flatMap((n) => [n.stateDir, n.runDir])])
      await mkdir(dir, { recursive: true });
    await createCgroup(layout.cgroup);
    for (const node of layout.nodes) await createCgroup(node.cgroup);
    await createNetwork(layout, { podRoutes: cni === 'bridge' });
    const pki = await createPki(layout);
    await writeFile(
      layout.kubeconfig,
      kubeconfig(layout.apiserverURL, pki.ca, 'svc-conformance-admin', pki.admin, `svc-${layout.name}`),
      { mode: 0o600 },
    );

    const control = layout.nodes[0];
    const imports = Promise.all(
      layout.nodes.map(async (node) => {
        await this.startContainerd(layout, node, cni);
        await importImages(node, artifacts);
      }),
    );
    imports.catch(() => undefined); // awaited below; a failure before then is the one reported
    await this.start(layout, control, 'etcd', artifacts.etcd, [
      `--data-dir=${join(layout.stateDir, 'etcd')}`,
      '--listen-client-urls=http://127.0.0.1:2379',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--unsafe-no-fsync',
      '--log-level=warn',
      `--name=${layout.name}`,
    ]);
    await this.start(layout, control, 'kube-apiserver', artifacts.k8s['kube-apiserver'], apiserverArgs(layout, pki));
    const kube = new Kube(layout.kubeconfig);
    const budget = this.settings.timeouts.clusterUp;
    await waitFor('kube-apiserver answering /readyz', budget, async () => {
      const res = await kube.core.listNamespace().then(
        () => 'ok',
        (e: Error) => e.message.split('\n')[0],
      );
      return { done: res === 'ok', seen: res };
    });
    const local = `https://127.0.0.1:${APISERVER_PORT}`;
    const componentConfig = async (file: string, user: string, cert: Pki['admin'], server = layout.apiserverURL) => {
      const path = join(layout.stateDir, file);
      await writeFile(path, kubeconfig(server, pki.ca, user, cert, `svc-${layout.name}`), { mode: 0o600 });
      return path;
    };
    await this.start(layout, control, 'kube-controller-manager', artifacts.k8s['kube-controller-manager'], [
      `--kubeconfig=${await componentConfig('controller-manager.kubeconfig', 'system:kube-controller-manager', pki.controllerManager, local)}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.ca}`,
      '--use-service-account-credentials=true',
      `--cluster-name=svc-${layout.name}`,
      `--service-cluster-ip-range=${serviceRanges(layout)}`,
      '--leader-elect=false',
      '--v=1',
      '--bind-address=127.0.0.1',
      '--controllers=*,-cloud-node-lifecycle,-nodeipam',
      // Each controller has a client of its own (its service account); at the default 20 requests
      // a second they start ~150 ms apart, the deployment controller ~5 s after the first.
      '--kube-api-qps=200',
      '--kube-api-burst=400',
    ]);
    await this.start(layout, control, 'kube-scheduler', artifacts.k8s['kube-scheduler'], [
      `--kubeconfig=${await componentConfig('scheduler.kubeconfig', 'system:kube-scheduler', pki.scheduler, local)}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--v=1',
    ]);
    // CoreDNS's objects now (in kube-system, which the API server makes shortly after it is
    // ready): its pod is scheduled the moment the node is Ready.
    await waitFor('namespace kube-system made by the API server', budget, async () => {
      const found = await kube.core.readNamespace({ name: 'kube-system' }).then(
        () => 'there',
        (e: Error) => e.message.split('\n')[0],
      );
      return { done: found === 'there', seen: found };
    });
    await kube.apply(...corednsObjects(this.settings, familyNets(layout)));
    await imports;

    const proxyKubeconfig = await componentConfig('kube-proxy.kubeconfig', 'system:kube-proxy', pki.kubeProxy);
    const resolvConf = join(layout.stateDir, 'node-resolv.conf');
    await writeFile(
      resolvConf,
      '# Pods with dnsPolicy Default get this: no resolver outside the cluster.\nnameserver 127.0.0.1\n',
    );
    for (const node of layout.nodes) {
      await this.startKubelet(layout, node, pki, resolvConf, artifacts, componentConfig);
      const proxyConfig = join(node.stateDir, 'kube-proxy.yaml');
      await writeFile(proxyConfig, kubeProxyConfig(node, proxyKubeconfig, mode, layout));
      await this.start(layout, node, 'kube-proxy', artifacts.k8s['kube-proxy'], [`--config=${proxyConfig}`, '--v=1']);
    }

    // Pod ranges before Ready: flanneld takes its lease from spec.podCIDR, and a node with flannel is
    // Ready only once the CNI config made from that lease is in place.
    await waitFor(`${layout.nodes.length} node(s) registered`, budget, async () => {
      const names = (await kube.core.listNode()).items.map((n) => n.metadata?.name ?? '');
      return { done: layout.nodes.every((n) => names.includes(n.name)), seen: names.join(', ') || 'none' };
    });
    for (const node of layout.nodes) {
      await kube.core.patchNode(
        {
          name: node.name,
          body: {
            // Zones round robin (--zones): node i in zone-((i-1) mod zones)+1, as a cloud labels its nodes.
            ...(zones ? { metadata: { labels: { [ZONE_LABEL]: `zone-${((node.index - 1) % zones) + 1}` } } } : {}),
            spec: {
              podCIDR: node.podCIDRs[layout.families[0]],
              podCIDRs: layout.families.map((f) => node.podCIDRs[f]),
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    if (cni === 'flannel') await this.startFlannel(layout, mode);
    await waitForReadyNodes(kube, layout.nodes.length, `${layout.nodes.length} node(s) Ready`, budget);
    // MetalLB (when setup built it) while CoreDNS comes up: its pool is each family's LoadBalancer range.
    const withMetallb = artifacts.metallbImages.length > 0;
    await Promise.all([
      waitForDns(layout, artifacts),
      withMetallb &&
        installMetallb(
          layout.kubeconfig,
          this.settings,
          familyNets(layout).map((net) => net.loadBalancerIPRange),
          layout.nodes.length,
        ),
    ]);

    const handle: ClusterHandle = {
      provider: 'local',
      name: layout.name,
      kubeconfig: layout.kubeconfig,
      nodeAccess: 'netns',
      capabilities: {
        kubernetesVersion: kubernetes,
        proxyMode: mode,
        cni,
        ipFamilies: layout.families,
        nodeCount: layout.nodes.length,
        clusterDomain: layout.network.clusterDomain,
        dnsIP: primaryNet(layout).dnsIP,
        zones,
      },
      nodes: layout.nodes.map((n) => ({
        name: n.name,
        internalIP: n.addrs[layout.families[0]],
        shell: { via: 'netns', netns: n.netns },
      })),
      external: {
        shell: { via: 'netns', netns: layout.fabricNetns },
        address: primaryNet(layout).fabricIP,
        externalIPRange: primaryNet(layout).externalIPRange,
        ...(withMetallb
          ? {
              loadBalancerIPRange: primaryNet(layout).loadBalancerIPRange,
              loadBalancerIPRanges: familyNets(layout).map((net) => net.loadBalancerIPRange),
            }
          : {}),
      },
      guard: { kind: 'local-fabric' },
    };
    const state: LocalState = { handle, daemons: this.daemons, imagesKey: imagesKey(this.settings) };
    await writeFile(join(layout.stateDir, 'state.json'), JSON.stringify(state, null, 2));
    return handle;
  }

  private async start(
    layout: ClusterLayout,
    node: NodeLayout,
    component: string,
    command: string,
    args: string[],
  ): Promise<Daemon> {
    const label =
      node === layout.nodes[0] && !['containerd', 'kubelet', 'kube-proxy', 'flanneld'].includes(component)
        ? component
        : `${component}-${node.index}`;
    const daemon = await startDaemon({
      component: label,
      netns: node.netns,
      uts: node.uts,
      cgroup: layout.cgroup,
      logDir: layout.logDir,
      command,
      args,
    });
    this.daemons.push(daemon);
    return daemon;
  }

  private async startContainerd(layout: ClusterLayout, node: NodeLayout, cni: CniChoice): Promise<void> {
    const cniDir = join(node.stateDir, 'cni');
    await mkdir(cniDir, { recursive: true });
    // flannel's config is written once flanneld has its lease (startFlannel); containerd picks it up then.
    if (cni === 'bridge')
      await writeFile(join(cniDir, '10-svc-conformance.conflist'), cniConfig(node, layout.families));
    const config = join(node.stateDir, 'containerd.toml');
    await writeFile(config, containerdConfig(node, cniDir, this.settings));
    await this.start(layout, node, 'containerd', 'containerd', ['--config', config, '--log-level', 'warn']);
    await waitFor(`containerd of ${node.name} answering`, 30_000, async () => {
      const r = await run('ctr', ['--address', containerdSocket(node), 'version'], { allowFailure: true });
      return { done: r.exitCode === 0, seen: r.stderr || 'no answer' };
    });
  }

  /** flanneld on every node, then each node's CNI config from the subnet.env it wrote. */
  private async startFlannel(layout: ClusterLayout, mode: ProxyMode): Promise<void> {
    const flanneld = findFlanneld(this.settings);
    for (const node of layout.nodes) {
      const files = flannelFiles(node);
      await mkdir(dirname(files.netConf), { recursive: true });
      await writeFile(files.netConf, flannelNetConf(layout, mode));
      const { command, args } = flanneldCommand(node, flanneld, layout.kubeconfig);
      await this.start(layout, node, 'flanneld', command, args);
    }
    for (const node of layout.nodes) {
      const env = await waitForSubnetEnv(node, this.settings.timeouts.clusterUp);
      await writeFile(join(node.stateDir, 'cni', '10-flannel.conflist'), flannelCniConfig(env, node));
    }
  }

  private async startKubelet(
    layout: ClusterLayout,
    node: NodeLayout,
    pki: Pki,
    resolvConf: string,
    artifacts: Artifacts,
    componentConfig: (file: string, user: string, cert: Pki['admin']) => Promise<string>,
  ): Promise<void> {
    const config = join(node.stateDir, 'kubelet.yaml');
    await writeFile(config, kubeletConfig(node, pki.ca, resolvConf, layout));
    const kubeconfigPath = await componentConfig(
      `kubelet-${node.index}.kubeconfig`,
      `system:node:${node.name}`,
      pki.kubelets[node.name],
    );
    await this.start(layout, node, 'kubelet', artifacts.k8s.kubelet, [
      `--config=${config}`,
      `--kubeconfig=${kubeconfigPath}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${layout.families.map((f) => node.addrs[f]).join(',')}`,
      `--root-dir=${join(node.stateDir, 'kubelet')}`,
      `--cert-dir=${join(node.stateDir, 'kubelet-pki')}`,
      '--v=1',
    ]);
  }

  /**
   * The cluster exists: its API server answers and lists the nodes it was made with. A dead
   * kube-proxy or CoreDNS does not count against it: that is a fault for the suites to find,
   * not a reason to quietly build a new cluster.
   */
  private async healthy(state: LocalState): Promise<boolean> {
    const kube = new Kube(state.handle.kubeconfig);
    const nodes = await kube.core.listNode().catch(() => undefined);
    return !!nodes && nodes.items.length === state.handle.nodes.length;
  }
}

function readState(name: string): LocalState | undefined {
  const file = join(STATE_ROOT, name, 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

function imagesKey(settings: Settings): string {
  const file = join(settings.cacheDir, 'images', '.key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
}

/** The cluster up now is the one asked for: nodes, proxy mode, Kubernetes version and address families. */
function sameShape(handle: ClusterHandle, options: ClusterOptions): boolean {
  const c = handle.capabilities;
  const families = FAMILIES_OF[options.ipFamily ?? 'ipv4'];
  return (
    handle.nodes.length === (options.nodes ?? 1) &&
    c.proxyMode === (options.proxyMode ?? 'iptables') &&
    c.kubernetesVersion === (options.kubernetes ?? versions.kubernetes) &&
    c.ipFamilies.join(',') === families.join(',') &&
    c.cni === (options.cni ?? 'bridge') &&
    (c.zones ?? 0) === (options.zones ?? 0)
  );
}

/** The local provider needs Linux, root, and a kernel that can run the asked proxy mode. */
function requireLocalHost(mode: ProxyMode): void {
  if (process.platform !== 'linux')
    throw new Error('the local provider runs on Linux only; use --provider kind or --kubeconfig');
  if (process.getuid?.() !== 0)
    throw new Error(
      'the local provider needs root (it creates network namespaces and runs kubelet); run as root or use --kubeconfig',
    );
  if (mode === 'ipvs' && !existsSync('/proc/net/ip_vs')) {
    throw new Error(
      'kube-proxy ipvs mode needs the kernel IP_VS module, which this machine does not have; use --proxy-mode iptables or nftables',
    );
  }
}
