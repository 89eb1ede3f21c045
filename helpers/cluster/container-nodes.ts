// What the kind and k3s providers share: their nodes are Docker containers on the Docker network
// setup/kind/network.sh makes (never masqueraded, nothing routes off it), each given the suites'
// probe as /svcprobe, and CoreDNS replaced by one that answers cluster names only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import type { Kube } from '../kube/client.js';
import { internalIP } from '../kube/nodes.js';
import { waitFor } from '../kube/wait.js';
import type { Settings } from '../settings.js';
import { corefile } from './local/coredns.js';
import { IMAGE_PROBE } from './node-shell.js';
import type { ExternalClient, NodeInfo } from './provider.js';

/** Nodes on a missing or masquerading network could reach outside: refused before anything is made. */
export async function requireNetwork(provider: string, setupFlag: string, settings: Settings): Promise<void> {
  const KIND_NETWORK = settings.kind.network;
  const format = '{{index .Options "com.docker.network.bridge.enable_ip_masquerade"}}';
  const net = await run('docker', ['network', 'inspect', '-f', format, KIND_NETWORK], { allowFailure: true });
  const setup = `npm run setup -- ${setupFlag}`;
  if (net.exitCode !== 0) {
    const where = `the Docker network ${KIND_NETWORK}, which does not exist`;
    throw new UsageError(`the ${provider} provider puts its nodes on ${where}: run \`${setup}\``);
  }
  if (net.stdout.trim() !== 'false') {
    const remake = `remove it (docker network rm ${KIND_NETWORK}) and run \`${setup}\` to make it without`;
    throw new UsageError(`Docker network ${KIND_NETWORK} masquerades to the outside; ${remake}`);
  }
}

/**
 * No DNS query may leave the cluster: the deployed Corefile (`forward . /etc/resolv.conf`) is replaced, once
 * there (k3s deploys it after its API answers, and again only on a restart, which a test cluster never has).
 */
export async function withoutForwarding(kube: Kube, provider: string, settings: Settings): Promise<void> {
  const body = { data: { Corefile: corefile(settings.network.clusterDomain) } };
  const configMap = { name: 'coredns', namespace: 'kube-system' };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const notFound = (error: Error) => /HTTP-Code: 404|not found/i.test(String(error));
  await waitFor(`${provider} to deploy the coredns ConfigMap`, settings.timeouts.clusterUp, async () => {
    const patched = await kube.core.patchNamespacedConfigMap({ ...configMap, body }, mergePatch).then(
      () => true,
      (error: Error) => (notFound(error) ? false : Promise.reject(error)),
    );
    return { done: patched, seen: patched ? 'patched' : 'not there yet' };
  });
  const corefileNow = (await kube.core.readNamespacedConfigMap(configMap)).data?.Corefile ?? '';
  if (/\bforward\b/.test(corefileNow)) {
    throw new Error(`CoreDNS's Corefile still forwards outside the cluster after the patch:\n${corefileNow}`);
  }
  const dnsPods = { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns', gracePeriodSeconds: 0 };
  await kube.core.deleteCollectionNamespacedPod(dnsPods);
}

/** "From a node" checks run the suites' probe program as /svcprobe on the node: copied into each container. */
export async function copyProbeInto(containers: string[], settings: Settings): Promise<void> {
  const svcprobe = join(settings.cacheDir, 'bin', 'svcprobe');
  for (const container of containers) await run('docker', ['cp', '-L', svcprobe, `${container}:${IMAGE_PROBE}`]);
}

/** What `svcprobe lookup` prints: its outcome ("ok" when answered) and the addresses. */
interface ProbeAnswer {
  outcome: string;
  addrs?: string[];
}

/** up() returns once CoreDNS answers the kubernetes Service's name asked from a node (after copyProbeInto). */
export async function waitForDns(container: string, dnsIP: string, settings: Settings): Promise<void> {
  const name = `kubernetes.default.svc.${settings.network.clusterDomain}`;
  const server = dnsIP.includes(':') ? `[${dnsIP}]:53` : `${dnsIP}:53`;
  await waitFor(`CoreDNS answering ${name} at ${dnsIP}`, settings.timeouts.clusterUp, async () => {
    const lookup = [IMAGE_PROBE, 'lookup', name, '--server', server, '--timeout', '1s'];
    const r = await run('docker', ['exec', container, ...lookup], { allowFailure: true });
    const answer = r.stdout ? (JSON.parse(r.stdout) as ProbeAnswer) : { outcome: r.stderr.trim() };
    return { done: answer.outcome === 'ok', seen: `${answer.outcome} ${answer.addrs?.join(',') ?? ''}`.trim() };
  });
}

/** The handle's entry for a node whose commands run in `container`; without an InternalIP nothing reaches it. */
export function containerNode(node: V1Node, container: string): NodeInfo {
  const name = node.metadata!.name!;
  const address = internalIP(node);
  if (!address) throw new Error(`node ${name} has no InternalIP`);
  return { name, internalIP: address, shell: { via: 'docker-exec', container } };
}

/** The host nft table setup/kind/network.sh makes around the kind network: its counters are the guard. */
export const KIND_GUARD_TABLE = 'svc_conformance_kind';

/** kind and k3s run their nodes as containers: a Docker engine must answer `docker info`. */
export async function requireDocker(provider: string): Promise<void> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
    allowFailure: true,
    timeoutMs: 15_000,
  });
  if (info.exitCode === 0 && info.stdout.trim()) return;
  const lines = (info.stderr || info.stdout).split('\n').map((l) => l.trim());
  const said = lines.find((l) => l && !l.startsWith('Client')) ?? `exit ${info.exitCode}`;
  throw new UsageError(
    /ENOENT/.test(said)
      ? `the ${provider} provider needs Docker, and no docker command is installed; install Docker, or use --provider local`
      : `the ${provider} provider needs a running Docker engine, and none answers (docker info: ${said}); start Docker (or point DOCKER_HOST at one), or use --provider local`,
  );
}

/** A container's address of one family on the provider's Docker network. */
export async function containerAddress(container: string, family: 'IPv4' | 'IPv6', network: string): Promise<string> {
  const field = family === 'IPv6' ? 'GlobalIPv6Address' : 'IPAddress';
  const out = await run('docker', [
    'inspect',
    '-f',
    `{{range .NetworkSettings.Networks}}{{.${field}}} {{end}}`,
    container,
  ]);
  const address = out.stdout.trim().split(/\s+/)[0];
  if (!address) throw new Error(`container ${container} has no ${family} address on ${network}`);
  return address;
}

/** The container that plays the client outside a kind or k3s cluster: its first node container's name + `-outside`. */
export const outsideClientName = (nodeContainerBase: string) => `${nodeContainerBase}-outside`;

/**
 * A client outside the cluster: a container of the suites' client image (svcprobe, busybox's
 * `ip`) on the provider's Docker network that is not a node, what NodePort, externalTrafficPolicy
 * and externalIPs checks send from. It has no default route (only the network's own segment;
 * an externalIP is routed to one node from here alone, by the spec), and NET_ADMIN for that.
 * Made with the cluster and removed with it (removeOutsideClient).
 */
export async function startOutsideClient(
  container: string,
  family: 'IPv4' | 'IPv6',
  settings: Settings,
): Promise<ExternalClient> {
  const image = settings.images.client;
  if ((await run('docker', ['image', 'inspect', image], { allowFailure: true })).exitCode !== 0) {
    const archive = join(settings.cacheDir, 'images', 'client.tar');
    if (!existsSync(archive))
      throw new UsageError(`the outside client needs the client image (${archive}): run \`npm run setup\``);
    await run('docker', ['load', '-i', archive]);
  }
  await removeOutsideClient(container);
  await run('docker', [
    'run',
    '--detach',
    '--name',
    container,
    '--network',
    settings.kind.network,
    '--cap-add',
    'NET_ADMIN',
    '--label',
    'svc-conformance.io/outside-client=true',
    image,
  ]);
  for (const ip of [['ip'], ['ip', '-6']])
    await run('docker', ['exec', container, ...ip, 'route', 'del', 'default'], { allowFailure: true });
  // busybox's `ip route show default` lists every route: look for the line itself.
  const routes = (await run('docker', ['exec', container, 'ip', 'route'])).stdout;
  const gateway = routes.split('\n').find((line) => line.startsWith('default'));
  if (gateway) throw new Error(`the outside client ${container} still has a default route: ${gateway}`);
  return {
    shell: { via: 'docker-exec', container },
    address: await containerAddress(container, family, settings.kind.network),
    externalIPRange: family === 'IPv6' ? settings.kind.externalIPRange6 : settings.kind.externalIPRange,
  };
}

export async function removeOutsideClient(container: string): Promise<void> {
  await run('docker', ['rm', '--force', container], { allowFailure: true });
}
