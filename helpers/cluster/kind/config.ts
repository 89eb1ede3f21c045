// kind cluster configs: the ones in kind-config/ by name, and the config kind is actually
// given. With the locally built node image (setup --kind; no registry) the provider adds
// what that image needs: kubeadm takes the control-plane, etcd and CoreDNS images the image
// preloads, and kind's own CNI (kindnetd, an image we do not build) is replaced by the
// provider's (see cni.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from '../../errors.js';
import { repoRoot, versions } from '../../config.js';
import type { ProxyMode } from '../provider.js';

export const KIND_CONFIG_DIR = join(repoRoot, 'kind-config');
export const LOCAL_IMAGE_REPO = 'localhost/svc-conformance';

/** The subset of kind's v1alpha4 Cluster the provider reads or writes. */
export interface KindCluster {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  networking?: {
    ipFamily?: 'ipv4' | 'ipv6' | 'dual';
    kubeProxyMode?: ProxyMode | 'none';
    disableDefaultCNI?: boolean;
    podSubnet?: string;
    serviceSubnet?: string;
  };
  nodes?: { role: 'control-plane' | 'worker'; image?: string }[];
  kubeadmConfigPatches?: string[];
  [key: string]: unknown;
}

export function kindConfigNames(): string[] {
  return existsSync(KIND_CONFIG_DIR)
    ? readdirSync(KIND_CONFIG_DIR)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/** Reads kind-config/NAME.yaml (or a path to a file of the user's). */
export function readKindConfig(nameOrPath: string): KindCluster {
  const file =
    nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') ? nameOrPath : join(KIND_CONFIG_DIR, `${nameOrPath}.yaml`);
  if (!existsSync(file))
    throw new UsageError(
      `no kind config "${nameOrPath}"; choose one of ${kindConfigNames().join(', ')} or give a file path`,
    );
  const config = parse(readFileSync(file, 'utf8')) as KindCluster;
  if (config?.kind !== 'Cluster' || config.apiVersion !== 'kind.x-k8s.io/v1alpha4') {
    throw new UsageError(
      `${file} is not a kind v1alpha4 Cluster config (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4)`,
    );
  }
  return config;
}

/** --nodes and --proxy-mode, when given, override the config's nodes and kube-proxy mode. */
export function withOptions(config: KindCluster, nodes?: number, proxyMode?: ProxyMode): KindCluster {
  const out: KindCluster = structuredClone(config);
  if (nodes)
    out.nodes = [{ role: 'control-plane' }, ...Array.from({ length: nodes - 1 }, () => ({ role: 'worker' as const }))];
  if (proxyMode) out.networking = { ...out.networking, kubeProxyMode: proxyMode };
  return out;
}

/** What the locally built node image needs on top of a config (see the file comment). */
export function forLocalImage(config: KindCluster): KindCluster {
  const out: KindCluster = structuredClone(config);
  out.networking = { ...out.networking, disableDefaultCNI: true };
  const etcdTag = `${versions.etcd.replace(/^v/, '')}-0`; // setup/kind/build-node-image.sh tags etcd so
  out.kubeadmConfigPatches = [
    ...(out.kubeadmConfigPatches ?? []),
    stringify({
      kind: 'ClusterConfiguration',
      imageRepository: LOCAL_IMAGE_REPO,
      etcd: { local: { imageRepository: LOCAL_IMAGE_REPO, imageTag: etcdTag } },
      dns: { imageRepository: LOCAL_IMAGE_REPO, imageTag: versions.coredns },
    }),
  ];
  return out;
}

export function proxyModeOf(config: KindCluster): ProxyMode | 'unknown' {
  const mode = config.networking?.kubeProxyMode ?? 'iptables';
  return mode === 'none' ? 'unknown' : mode;
}

export function ipFamiliesOf(config: KindCluster): ('IPv4' | 'IPv6')[] {
  const family = config.networking?.ipFamily ?? 'ipv4';
  return family === 'dual' ? ['IPv4', 'IPv6'] : family === 'ipv6' ? ['IPv6'] : ['IPv4'];
}

export { stringify as toYaml };
