// The bootstrap steps of the local cluster that need no provider state: component
// arguments, the waits for nodes and DNS, image import, and unmounting on the way down.
import { readFileSync } from 'node:fs';
import { localNetwork, timeouts } from '../../config.js';
import { run } from '../../host/run.js';
import type { Kube } from '../../kube/client.js';
import { waitFor } from '../../kube/wait.js';
import type { Artifacts } from './artifacts.js';
import { containerdSocket } from './configs.js';
import { APISERVER_PORT, type ClusterLayout, type NodeLayout } from './layout.js';
import type { Pki } from './pki.js';

export function apiserverArgs(layout: ClusterLayout, pki: Pki): string[] {
  return [
    '--etcd-servers=http://127.0.0.1:2379', '--bind-address=0.0.0.0', `--secure-port=${APISERVER_PORT}`, `--advertise-address=${layout.nodes[0].ip}`,
    `--service-cluster-ip-range=${localNetwork.serviceCIDR}`, `--client-ca-file=${pki.ca}`,
    `--tls-cert-file=${pki.apiserver.cert}`, `--tls-private-key-file=${pki.apiserver.key}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`, `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-issuer=https://kubernetes.default.svc.${localNetwork.clusterDomain}`,
    `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--authorization-mode=Node,RBAC', '--allow-privileged=true', '--profiling=false', '--v=1',
  ];
}

export function isNodeReady(node: { status?: { conditions?: { type: string; status: string }[] } }): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function waitForNodesReady(kube: Kube, layout: ClusterLayout): Promise<void> {
  await waitFor(`${layout.nodes.length} node(s) Ready`, timeouts.clusterUp, async () => {
    const nodes = await kube.core.listNode();
    const ready = nodes.items.filter(isNodeReady).map((n) => n.metadata?.name);
    const seen = nodes.items.map((n) => `${n.metadata?.name}=${isNodeReady(n) ? 'Ready' : 'NotReady'}`).join(', ') || 'no nodes registered';
    return { done: ready.length === layout.nodes.length, seen };
  });
}

/** DNS is up when the DNS Service IP answers the `kubernetes` Service's name from a node. */
export async function waitForDns(layout: ClusterLayout, artifacts: Artifacts): Promise<void> {
  const name = `kubernetes.default.svc.${localNetwork.clusterDomain}`;
  await waitFor(`CoreDNS answering ${name} at ${localNetwork.dnsIP}`, timeouts.clusterUp, async () => {
    const r = await run('ip', ['netns', 'exec', layout.nodes[0].netns, artifacts.svcprobe, 'lookup', name, '--server', localNetwork.dnsIP, '--timeout', '1s'], {
      allowFailure: true,
    });
    const answer = r.stdout ? (JSON.parse(r.stdout) as { outcome: string; addrs?: string[] }) : { outcome: r.stderr };
    return { done: answer.outcome === 'ok', seen: `${answer.outcome} ${answer.addrs?.join(',') ?? ''}`.trim() };
  });
}

export async function importImages(node: NodeLayout, artifacts: Artifacts): Promise<void> {
  await Promise.all(
    Object.values(artifacts.images).map((archive) =>
      run('ctr', ['--address', containerdSocket(node), '-n', 'k8s.io', 'images', 'import', '--no-unpack=false', archive], { where: `for ${node.name}` }),
    ),
  );
}

/** Unmounts everything mounted below the given directories (pod volumes, rootfs, netns), deepest first. */
export async function unmountBelow(dirs: string[]): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => !!mountPoint && dirs.some((d) => mountPoint === d || mountPoint.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await run('umount', ['-l', mountPoint], { allowFailure: true });
}
