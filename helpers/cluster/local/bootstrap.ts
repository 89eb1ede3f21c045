// The bootstrap steps of the local cluster that need no provider state: component
// arguments, the wait for DNS, image import, and unmounting on the way down.
import { readFileSync } from 'node:fs';
import { run } from '../../host/run.js';
import { waitFor } from '../../kube/wait.js';
import type { Artifacts } from './artifacts.js';
import { containerdSocket } from './configs.js';
import { APISERVER_PORT, familyNets, primaryNet, type ClusterLayout, type NodeLayout } from './layout.js';
import type { Pki } from './pki.js';

export function apiserverArgs(layout: ClusterLayout, pki: Pki): string[] {
  const { network, families } = layout;
  return [
    '--etcd-servers=http://127.0.0.1:2379',
    // '::' listens on both families (the host reaches it over IPv4 on an IPv6-only cluster too).
    `--bind-address=${families.includes('IPv6') ? '::' : '0.0.0.0'}`,
    `--secure-port=${APISERVER_PORT}`,
    `--advertise-address=${layout.nodes[0].addrs[families[0]]}`,
    `--service-cluster-ip-range=${serviceRanges(layout)}`,
    `--client-ca-file=${pki.ca}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-issuer=https://kubernetes.default.svc.${network.clusterDomain}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--authorization-mode=Node,RBAC',
    '--allow-privileged=true',
    '--profiling=false',
    '--v=1',
  ];
}

/** The Service ranges of the cluster's families, primary first, as the API server and controller-manager take them. */
export function serviceRanges(layout: ClusterLayout): string {
  return familyNets(layout)
    .map((net) => net.serviceCIDR)
    .join(',');
}

/** DNS is up when the DNS Service IP answers the `kubernetes` Service's name from a node. */
export async function waitForDns(layout: ClusterLayout, artifacts: Artifacts): Promise<void> {
  const { clusterDomain } = layout.network;
  const { dnsIP } = primaryNet(layout);
  const name = `kubernetes.default.svc.${clusterDomain}`;
  await waitFor(`CoreDNS answering ${name} at ${dnsIP}`, layout.settings.timeouts.clusterUp, async () => {
    const lookup = [artifacts.svcprobe, 'lookup', name, '--server', dnsIP, '--timeout', '1s'];
    const r = await run('ip', ['netns', 'exec', layout.nodes[0].netns, ...lookup], {
      allowFailure: true,
    });
    const answer = r.stdout ? (JSON.parse(r.stdout) as { outcome: string; addrs?: string[] }) : { outcome: r.stderr };
    return { done: answer.outcome === 'ok', seen: `${answer.outcome} ${answer.addrs?.join(',') ?? ''}`.trim() };
  });
}

export async function importImages(node: NodeLayout, artifacts: Artifacts): Promise<void> {
  await Promise.all(
    [...Object.values(artifacts.images), ...artifacts.metallbImages].map((archive) =>
      run(
        'ctr',
        ['--address', containerdSocket(node), '-n', 'k8s.io', 'images', 'import', '--no-unpack=false', archive],
        { where: `for ${node.name}` },
      ),
    ),
  );
}

/** Unmounts everything mounted below the given directories (pod volumes, rootfs, netns), deepest first. */
export async function unmountBelow(dirs: string[]): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(
      (mountPoint): mountPoint is string =>
        !!mountPoint && dirs.some((d) => mountPoint === d || mountPoint.startsWith(`${d}/`)),
    )
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) await run('umount', ['-l', mountPoint], { allowFailure: true });
}
