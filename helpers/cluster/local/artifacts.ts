// What `npm run setup` leaves in the cache for the local cluster: binaries keyed by
// version, image archives, and the Debian tools. Missing pieces give one line that says
// to run setup.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../../config.js';
import type { Settings } from '../../settings.js';

export const K8S_COMMANDS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
  'kubectl',
  'agnhost',
] as const;
export const IMAGE_ARCHIVES = ['pause', 'agnhost', 'client', 'coredns'] as const;
const HOST_TOOLS = [
  'containerd',
  'containerd-shim-runc-v2',
  'runc',
  'ctr',
  'iptables',
  'nft',
  'ip',
  'nsenter',
  'openssl',
  'conntrack',
];

export interface Artifacts {
  k8s: Record<(typeof K8S_COMMANDS)[number], string>;
  etcd: string;
  svcprobe: string;
  images: Record<(typeof IMAGE_ARCHIVES)[number], string>;
}

export class SetupMissingError extends Error {
  constructor(what: string, cacheDir: string) {
    super(
      `${what} is missing: run \`npm run setup\` first (it builds and caches everything the local cluster needs under ${cacheDir})`,
    );
    this.name = 'SetupMissingError';
  }
}

export function findArtifacts({ cacheDir, searchPath }: Settings): Artifacts {
  const bin = join(cacheDir, 'bin');
  const k8sDir = join(bin, `k8s-${versions.kubernetes}`);
  const k8s = Object.fromEntries(K8S_COMMANDS.map((c) => [c, join(k8sDir, c)])) as Artifacts['k8s'];
  const etcd = join(bin, `etcd-${versions.etcd}`, 'etcd');
  const svcprobe = join(bin, 'svcprobe'); // setup links it to the build of the current sources
  const images = Object.fromEntries(
    IMAGE_ARCHIVES.map((i) => [i, join(cacheDir, 'images', `${i}.tar`)]),
  ) as Artifacts['images'];
  for (const [what, path] of [
    ...Object.entries(k8s),
    ['etcd', etcd],
    ['svcprobe', svcprobe],
    ...Object.entries(images).map(([k, v]) => [`image ${k}`, v]),
  ]) {
    if (!existsSync(path)) throw new SetupMissingError(`${what} (${path})`, cacheDir);
  }
  for (const tool of HOST_TOOLS) {
    if (!searchPath.some((dir) => existsSync(join(dir, tool))))
      throw new SetupMissingError(`the ${tool} command`, cacheDir);
  }
  return { k8s, etcd, svcprobe, images };
}
