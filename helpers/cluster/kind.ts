// The `kind` provider: a cluster made by the kind CLI (built by `npm run setup -- --kind`)
// from a config in kind-config/, its nodes Docker containers on the network svc-kind
// (setup/kind/network.sh: never masqueraded, nothing routes off it). The node image is the locally
// built one where setup made it, else upstream kindest/node for the pinned version.
// up() = kind create → kubeconfig to the node's address → pod network (local image) →
// CoreDNS without forwarding → nodes Ready and DNS answering. Node commands: docker exec.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { cacheDir, localNetwork, timeouts, versions } from '../config.js';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import { CNI_NAME, installPodNetwork } from './kind/cni.js';
import { forLocalImage, ipFamiliesOf, LOCAL_IMAGE_REPO, proxyModeOf, readKindConfig, toYaml, withOptions, type KindCluster } from './kind/config.js';
import { corefile } from './local/coredns.js';
import type { ClusterHandle, ClusterOptions, ClusterProvider } from './provider.js';
import { keepHandle, reusableHandle } from './reuse.js';

export const DEFAULT_KIND_NAME = 'svc-kind';
export const DEFAULT_KIND_CONFIG = 'iptables';
/** The Docker network setup/kind/network.sh makes; kind puts its nodes there. */
export const KIND_NETWORK = process.env.SVC_KIND_NETWORK || 'svc-kind';
const STATE_ROOT = '/var/lib/svc-conformance/kind';
/** Node logs of a cluster that did not come up (kind export logs); kept after down(). */
const FAILED_LOGS = '/var/lib/svc-conformance/kind-logs';
const LOCAL_NODE_IMAGE = `${LOCAL_IMAGE_REPO}/kind-node:${versions.kubernetes}`;
const UPSTREAM_NODE_IMAGE = `kindest/node:${versions.kubernetes}`;


export class KindProvider implements ClusterProvider {
  readonly name = 'kind' as const;

  constructor(private readonly configName = process.env.SVC_KIND_CONFIG || DEFAULT_KIND_CONFIG) {}

  async up(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const name = options.name ?? DEFAULT_KIND_NAME;
    const kind = kindCommand();
    const image = await nodeImage();
    const base = withOptions(readKindConfig(this.configName), options.nodes, options.proxyMode);
    const config = image === LOCAL_NODE_IMAGE ? forLocalImage(base) : base;
    const fingerprint = `${image}\n${toYaml(config)}`;
    const kept = await reusableHandle(STATE_ROOT, name, fingerprint);
    if (kept) return kept;
    await requireNetwork();
    await this.down(name);

    const dir = join(STATE_ROOT, name);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'kind.yaml');
    writeFileSync(configFile, `# ${this.configName}, as given to kind (provider additions included)\n${toYaml(config)}`);
    const kubeconfig = join(dir, 'kubeconfig');
    try {
      await run(kind, ['create', 'cluster', '--name', name, '--config', configFile, '--image', image, '--kubeconfig', kubeconfig, '--retain'], {
        env: { KIND_EXPERIMENTAL_DOCKER_NETWORK: KIND_NETWORK },
        timeoutMs: 10 * 60_000,
        where: `(kind create cluster ${name}; node logs: ${kind} export logs --name ${name})`,
      });
      const handle = await this.finish(name, kubeconfig, config);
      keepHandle(STATE_ROOT, name, handle, fingerprint);
      return handle;
    } catch (error) {
      const logs = join(FAILED_LOGS, name);
      await run(kind, ['export', 'logs', logs, '--name', name], { allowFailure: true, timeoutMs: 120_000 });
      if (process.env.SVC_KEEP_FAILED !== '1') await this.down(name).catch(() => undefined);
      throw new Error(`kind cluster "${name}" did not come up: ${(error as Error).message} (node logs in ${logs})`, { cause: error });
    }
  }

  async down(name = DEFAULT_KIND_NAME): Promise<void> {
    if (existsSync(kindCommand(false))) await run(kindCommand(), ['delete', 'cluster', '--name', name], { timeoutMs: 180_000 });
    rmSync(join(STATE_ROOT, name), { recursive: true, force: true });
  }

  /** After `kind create`: API by the node's address, pod network, CoreDNS, readiness. */
  private async finish(name: string, kubeconfig: string, config: KindCluster): Promise<ClusterHandle> {
    const controlPlane = `${name}-control-plane`;
    const address = await containerAddress(controlPlane, ipFamiliesOf(config)[0]);
    pointKubeconfigAt(kubeconfig, address.includes(':') ? `https://[${address}]:6443` : `https://${address}:6443`);
    const kube = new Kube(kubeconfig);
    const nodeCount = config.nodes?.length ?? 1;
    if (config.networking?.disableDefaultCNI) await installPodNetwork(kube, nodeCount);
    // Both nodes of a two-node cluster take pods, as the local provider's do: the
    // cross-node checks need backends on each.
    if (nodeCount > 1) await run('docker', ['exec', controlPlane, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'taint', 'nodes', controlPlane, 'node-role.kubernetes.io/control-plane:NoSchedule-']);
    await withoutForwarding(kube);
    const nodes = await waitFor(`all ${nodeCount} kind nodes Ready`, timeouts.clusterUp, async () => {
      const list = (await kube.core.listNode()).items;
      const ready = list.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return { done: ready.length === nodeCount, seen: `${ready.length}/${list.length} Ready`, value: list };
    });
    // "From a node" checks run the suites' probe program as /svcprobe on the node.
    for (const node of nodes) await run('docker', ['cp', '-L', join(cacheDir, 'bin', 'svcprobe'), `${node.metadata!.name!}:/svcprobe`]);
    const dns = await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    const dnsIP = dns.spec!.clusterIP!;
    await waitForDns(controlPlane, dnsIP);
    return {
      provider: 'kind',
      name,
      kubeconfig,
      nodeAccess: 'docker-exec',
      capabilities: {
        kubernetesVersion: versions.kubernetes,
        proxyMode: proxyModeOf(config),
        cni: config.networking?.disableDefaultCNI ? CNI_NAME : 'kindnet',
        ipFamilies: ipFamiliesOf(config),
        nodeCount,
        clusterDomain: localNetwork.clusterDomain,
        dnsIP,
      },
      nodes: nodes.map((n) => ({
        name: n.metadata!.name!,
        internalIP: n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address,
        target: n.metadata!.name!, // kind names each node container after its node
      })),
    };
  }
}

/** CoreDNS answers cluster names only: kubeadm's Corefile (forward . /etc/resolv.conf) is replaced. */
async function withoutForwarding(kube: Kube): Promise<void> {
  await kube.core.patchNamespacedConfigMap(
    { name: 'coredns', namespace: 'kube-system', body: { data: { Corefile: corefile(localNetwork.clusterDomain) } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await kube.core.deleteCollectionNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns', gracePeriodSeconds: 0 });
}

/** CoreDNS answers the kubernetes Service's name, asked from the control-plane node's network. */
async function waitForDns(container: string, dnsIP: string): Promise<void> {
  const pid = (await run('docker', ['inspect', '-f', '{{.State.Pid}}', container])).stdout.trim();
  const svcprobe = join(cacheDir, 'bin', 'svcprobe');
  const name = `kubernetes.default.svc.${localNetwork.clusterDomain}`;
  await waitFor(`CoreDNS answering ${name} at ${dnsIP}`, timeouts.clusterUp, async () => {
    const server = dnsIP.includes(':') ? `[${dnsIP}]:53` : `${dnsIP}:53`;
    const r = await run('nsenter', ['-t', pid, '-n', svcprobe, 'lookup', name, '--server', server, '--timeout', '1s'], { allowFailure: true });
    const answer = r.stdout ? (JSON.parse(r.stdout) as { outcome: string; addrs?: string[] }) : { outcome: r.stderr };
    return { done: answer.outcome === 'ok', seen: `${answer.outcome} ${answer.addrs?.join(',') ?? ''}`.trim() };
  });
}

/** The kind binary setup built for the pinned version, else SVC_KIND or `kind` on PATH. */
function kindCommand(required = true): string {
  const built = join(cacheDir, 'bin', `kind-${versions.kind}`, 'kind');
  const chosen = process.env.SVC_KIND || (existsSync(built) ? built : 'kind');
  if (required && chosen === 'kind' && !(process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'kind')))) {
    throw new UsageError(`the kind provider needs the kind CLI ${versions.kind}: run \`npm run setup -- --kind\` (builds it into ${built})`);
  }
  return chosen;
}

/** SVC_KIND_NODE_IMAGE, else the locally built image when Docker has it, else upstream's. */
async function nodeImage(): Promise<string> {
  if (process.env.SVC_KIND_NODE_IMAGE) return process.env.SVC_KIND_NODE_IMAGE;
  const local = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', LOCAL_NODE_IMAGE], { allowFailure: true });
  return local.exitCode === 0 ? LOCAL_NODE_IMAGE : UPSTREAM_NODE_IMAGE;
}

async function requireNetwork(): Promise<void> {
  const net = await run('docker', ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.enable_ip_masquerade"}}', KIND_NETWORK], { allowFailure: true });
  if (net.exitCode !== 0) {
    throw new UsageError(`the kind provider puts its nodes on the Docker network ${KIND_NETWORK}, which does not exist: run \`npm run setup -- --kind\``);
  }
  if (net.stdout.trim() !== 'false') {
    throw new UsageError(`Docker network ${KIND_NETWORK} masquerades to the outside; remove it (docker network rm ${KIND_NETWORK}) and run \`npm run setup -- --kind\` to make it without`);
  }
}

async function containerAddress(container: string, family: 'IPv4' | 'IPv6'): Promise<string> {
  const field = family === 'IPv6' ? 'GlobalIPv6Address' : 'IPAddress';
  const out = await run('docker', ['inspect', '-f', `{{range .NetworkSettings.Networks}}{{.${field}}} {{end}}`, container]);
  const address = out.stdout.trim().split(/\s+/)[0];
  if (!address) throw new Error(`kind node ${container} has no ${family} address on ${KIND_NETWORK}`);
  return address;
}

/** kind's kubeconfig names a port Docker publishes on 127.0.0.1; the node's own address needs no proxy. */
function pointKubeconfigAt(file: string, server: string): void {
  const config = parse(readFileSync(file, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = server;
  writeFileSync(file, toYaml(config), { mode: 0o600 });
}


