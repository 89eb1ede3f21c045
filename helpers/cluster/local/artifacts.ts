// What `npm run setup` leaves in the cache for the local cluster: binaries keyed by
// version, image archives, and the Debian tools. Missing pieces give one line that says
// to run setup.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { versions } from '../../config.js';
import { UsageError } from '../../errors.js';
import type { Settings } from '../../settings.js';
import { METALLB_IMAGE_ARCHIVES } from '../metallb.js';

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
  /** MetalLB's images, when setup built them (without them the cluster has no LoadBalancer implementation). */
  metallbImages: string[];
}

/** The Kubernetes versions the local provider can run: the pinned one, and any `npm run setup -- --kubernetes V` built. */
export function builtKubernetesVersions(cacheDir: string): string[] {
  const bin = join(cacheDir, 'bin');
  const built = existsSync(bin)
    ? readdirSync(bin)
        .filter((d) => /^k8s-v\d+\.\d+\.\d+$/.test(d) && existsSync(join(bin, d, '.done')))
        .map((d) => d.slice('k8s-'.length))
    : [];
  return [...new Set([versions.kubernetes, ...built])].sort(compareVersions);
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.slice(1).split('.').map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}

export class SetupMissingError extends Error {
  constructor(what: string, cacheDir: string) {
    super(
      `${what} is missing: run \`npm run setup\` first (it builds and caches everything the local cluster needs under ${cacheDir})`,
    );
    this.name = 'SetupMissingError';
  }
}

/**
 * What setup built for a cluster running Kubernetes `kubernetes` (the pinned version unless
 * --kubernetes asked for another): its components from that version's build, agnhost (the
 * suites' images) from the pinned one's.
 */
export function findArtifacts({ cacheDir, searchPath }: Settings, kubernetes = versions.kubernetes): Artifacts {
  const bin = join(cacheDir, 'bin');
  const k8sDir = join(bin, `k8s-${kubernetes}`);
  if (kubernetes !== versions.kubernetes && !existsSync(join(k8sDir, '.done'))) {
    throw new UsageError(
      `Kubernetes ${kubernetes} is not built here (built: ${builtKubernetesVersions(cacheDir).join(', ')}); build it with npm run setup -- --kubernetes ${kubernetes}`,
    );
  }
  const k8s = Object.fromEntries(
    K8S_COMMANDS.map((c) => [c, join(c === 'agnhost' ? join(bin, `k8s-${versions.kubernetes}`) : k8sDir, c)]),
  ) as Artifacts['k8s'];
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
  const metallbImages = METALLB_IMAGE_ARCHIVES.map((i) => join(cacheDir, 'images', `${i}.tar`));
  return { k8s, etcd, svcprobe, images, metallbImages: metallbImages.every((i) => existsSync(i)) ? metallbImages : [] };
}
