// The `k3s` provider: one k3s server (which is also its node) in a Docker container made by
// @testcontainers/k3s `K3sContainer`, on the network svc-kind (setup/kind/network.sh: never
// masqueraded, nothing routes off it). Image: helpers/cluster/k3s/image.ts (SVC_K3S_IMAGE, the
// one `npm run setup -- --k3s` builds, or upstream rancher/k3s); never pulled.
// up() = container → kubeconfig to its address → (local image) bridge pod network → CoreDNS
// without forwarding → node Ready and DNS answering. Node commands: docker exec. down() = the container's stop() (volumes too).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
// testcontainers is loaded when a k3s cluster is made, not with every command (~0.8 s).
import type { StartedK3sContainer } from '@testcontainers/k3s';
import { cacheDir, localNetwork, timeouts } from '../config.js';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { Kube } from '../kube/client.js';
import { waitFor } from '../kube/wait.js';
import { BRIDGE_CNI_NAME, installBridgeNetwork, wantsBridgeNetwork } from './k3s/cni.js';
import { CONTAINERD_CONFIG_TEMPLATE } from './k3s/containerd-template.js';
import { requireK3sImage } from './k3s/image.js';
import { CONTAINERD_TEMPLATE, RESOLV_CONF, resolvConf, serverArgs } from './k3s/server-args.js';
import { KIND_NETWORK } from './kind.js';
import { corefile } from './local/coredns.js';
import type { ClusterHandle, ClusterOptions, ClusterProvider } from './provider.js';
import { keepHandle, reusableHandle } from './reuse.js';

export const DEFAULT_K3S_NAME = 'svc';
/** Every container this provider makes is named svc-k3s-<cluster name>. */
export const containerName = (name: string) => `svc-k3s-${name}`;
const STATE_ROOT = '/var/lib/svc-conformance/k3s';


export class K3sProvider implements ClusterProvider {
  readonly name = 'k3s' as const;
  private readonly started = new Map<string, StartedK3sContainer>();

  async up(options: ClusterOptions = {}): Promise<ClusterHandle> {
    const name = options.name ?? DEFAULT_K3S_NAME;
    if ((options.nodes ?? 1) !== 1) throw new UsageError(`the k3s provider makes one node, not ${options.nodes}; drop --nodes, or use --provider local or kind for more`);
    if (options.proxyMode === 'ipvs') throw new UsageError('the k3s provider runs kube-proxy in iptables or nftables mode (this machine has no IP_VS); choose --proxy-mode iptables or nftables');
    const proxyMode = options.proxyMode ?? 'iptables';
    const image = await requireK3sImage();
    const bridge = await wantsBridgeNetwork(image);
    const args = serverArgs({ nodeName: containerName(name), proxyMode, clusterDomain: localNetwork.clusterDomain, withoutFlannel: bridge });
    const fingerprint = `${image}\n${args.join(' ')}`;
    const kept = await reusableHandle(STATE_ROOT, name, fingerprint);
    if (kept) return kept;
    await requireNetwork();
    await this.down(name);

    // testcontainers' reaper (Ryuk) is an image no one can pull here; down() removes the container.
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    // It finds "the host" through Docker's default bridge, which the engine setup starts without
    // (--bridge=none); the provider reaches the node by its address on KIND_NETWORK instead.
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
    const dir = join(STATE_ROOT, name);
    mkdirSync(dir, { recursive: true });
    let container: StartedK3sContainer | undefined;
    try {
      const [{ K3sContainer }, { Wait }] = await Promise.all([import('@testcontainers/k3s'), import('testcontainers')]);
      container = await new K3sContainer(image)
        .withName(containerName(name))
        .withNetworkMode(KIND_NETWORK)
        .withCommand(args)
        .withLabels({ 'svc-conformance.io/provider': 'k3s', 'svc-conformance.io/cluster': name })
        .withCopyContentToContainer([
          { content: resolvConf(), target: RESOLV_CONF },
          { content: CONTAINERD_CONFIG_TEMPLATE, target: CONTAINERD_TEMPLATE },
        ])
        // K3sContainer waits for a cloud-provider line that upstream Kubernetes v1.34 no longer logs;
        // k3s's own "up and running" comes once the API server answers.
        .withWaitStrategy(Wait.forLogMessage(/Node controller sync successful|k3s is up and running/))
        .withStartupTimeout(timeouts.clusterUp)
        .start();
      this.started.set(name, container);
      const address = container.getIpAddress(KIND_NETWORK);
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, container.getAliasedKubeConfig(address), { mode: 0o600 });
      const handle = await finish(name, kubeconfig, proxyMode, bridge);
      keepHandle(STATE_ROOT, name, handle, fingerprint);
      return handle;
    } catch (error) {
      const logs = join(dir, 'k3s.log');
      await run('docker', ['logs', '--tail', '400', containerName(name)], { allowFailure: true }).then((r) => writeFileSync(logs, r.stdout + r.stderr));
      const kept = process.env.SVC_KEEP_FAILED === '1';
      if (!kept) await this.down(name).catch(() => undefined);
      throw new Error(`k3s cluster "${name}" (${image}) did not come up: ${(error as Error).message} (k3s log: ${kept ? logs : `docker logs ${containerName(name)}, last lines kept in ${logs}`})`, { cause: error });
    }
  }

  /** Stops and removes the container with its volumes; by name when another process made it. */
  async down(name = DEFAULT_K3S_NAME): Promise<void> {
    const container = this.started.get(name);
    this.started.delete(name);
    if (container) await container.stop({ remove: true, removeVolumes: true });
    else await run('docker', ['rm', '--force', '--volumes', containerName(name)], { allowFailure: true, timeoutMs: 120_000 });
    rmSync(join(STATE_ROOT, name), { recursive: true, force: true }); // state and kubeconfig: nothing of it is left
  }
}

/** After the container is up: CoreDNS without forwarding, node Ready, the probe, DNS answering. */
async function finish(name: string, kubeconfig: string, proxyMode: 'iptables' | 'nftables', bridge: boolean): Promise<ClusterHandle> {
  const kube = new Kube(kubeconfig);
  if (bridge) await installBridgeNetwork(kube, containerName(name));
  await withoutForwarding(kube);
  const [node] = await waitFor(`k3s node ${containerName(name)} Ready`, timeouts.clusterUp, async () => {
    const list = (await kube.core.listNode()).items;
    const ready = list.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return { done: ready.length === 1, seen: `${ready.length}/${list.length} Ready`, value: list };
  });
  // "From a node" checks run the suites' probe program as /svcprobe on the node.
  await run('docker', ['cp', '-L', join(cacheDir, 'bin', 'svcprobe'), `${containerName(name)}:/svcprobe`]);
  const dnsIP = (await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' })).spec!.clusterIP!;
  await waitForDns(containerName(name), dnsIP);
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
      clusterDomain: localNetwork.clusterDomain,
      dnsIP,
    },
    nodes: [{ name: node.metadata!.name!, internalIP: node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address, target: containerName(name) }],
  };
}

/**
 * k3s deploys CoreDNS with `forward . /etc/resolv.conf`: its Corefile is replaced by one that
 * answers cluster names only (the local provider's), and the pods restarted on it. k3s applies
 * its coredns manifest again only when k3s restarts, which a test cluster never does.
 */
async function withoutForwarding(kube: Kube): Promise<void> {
  const body = { data: { Corefile: corefile(localNetwork.clusterDomain) } };
  await waitFor('k3s to deploy the coredns ConfigMap', timeouts.clusterUp, async () => {
    const patched = await kube.core
      .patchNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system', body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
      .then(() => true, (error: Error) => (/HTTP-Code: 404|not found/i.test(String(error)) ? false : Promise.reject(error)));
    return { done: patched, seen: patched ? 'patched' : 'not there yet' };
  });
  const corefileNow = (await kube.core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' })).data?.Corefile ?? '';
  if (/\bforward\b/.test(corefileNow)) throw new Error(`CoreDNS's Corefile still forwards outside the cluster after the patch:\n${corefileNow}`);
  await kube.core.deleteCollectionNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns', gracePeriodSeconds: 0 });
}

/** CoreDNS answers the kubernetes Service's name, asked from the node. */
async function waitForDns(container: string, dnsIP: string): Promise<void> {
  const name = `kubernetes.default.svc.${localNetwork.clusterDomain}`;
  await waitFor(`CoreDNS answering ${name} at ${dnsIP}`, timeouts.clusterUp, async () => {
    const r = await run('docker', ['exec', container, '/svcprobe', 'lookup', name, '--server', `${dnsIP}:53`, '--timeout', '1s'], { allowFailure: true });
    const answer = r.stdout ? (JSON.parse(r.stdout) as { outcome: string; addrs?: string[] }) : { outcome: r.stderr.trim() };
    return { done: answer.outcome === 'ok', seen: `${answer.outcome} ${answer.addrs?.join(',') ?? ''}`.trim() };
  });
}

async function requireNetwork(): Promise<void> {
  const net = await run('docker', ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.enable_ip_masquerade"}}', KIND_NETWORK], { allowFailure: true });
  if (net.exitCode !== 0) throw new UsageError(`the k3s provider puts its node on the Docker network ${KIND_NETWORK}, which does not exist: run \`npm run setup -- --k3s\``);
  if (net.stdout.trim() !== 'false') {
    throw new UsageError(`Docker network ${KIND_NETWORK} masquerades to the outside; remove it (docker network rm ${KIND_NETWORK}) and run \`npm run setup -- --k3s\` to make it without`);
  }
}


