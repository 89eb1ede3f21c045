// The settings a user may change, with their defaults, documented once. Each can be set
// by the environment variable named beside it; the command line sets the same variables.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Pinned component versions: setup/versions.json is the one place they live. */
export const versions: Record<'kubernetes' | 'etcd' | 'coredns' | 'kind', string> = JSON.parse(
  readFileSync(join(repoRoot, 'setup', 'versions.json'), 'utf8'),
);

const env = (name: string, fallback: string): string => process.env[name] || fallback;

/** Where setup keeps builds and image archives (SVC_CACHE). */
export const cacheDir = env('SVC_CACHE', join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'svc-conformance'));

/** Where reports go (SVC_RESULTS). */
export const resultsDir = env('SVC_RESULTS', join(repoRoot, 'test-results'));

/** The images the suites and the local cluster run. Users with a registry may point these at upstream images. */
export const images = {
  agnhost: env('SVC_IMAGE_AGNHOST', `localhost/svc-conformance/agnhost:${versions.kubernetes}`),
  client: env('SVC_IMAGE_CLIENT', `localhost/svc-conformance/client:${versions.kubernetes}`),
  pause: env('SVC_IMAGE_PAUSE', `localhost/svc-conformance/pause:${versions.kubernetes}`),
  coredns: env('SVC_IMAGE_COREDNS', `localhost/svc-conformance/coredns:${versions.coredns}`),
};

/** Addresses of the local cluster. All of them live only in network namespaces the provider makes. */
export const localNetwork = {
  nodeSubnet: env('SVC_NODE_SUBNET', '10.250.0.0/24'), // the nodes' shared segment
  podCIDR: env('SVC_POD_CIDR', '10.244.0.0/16'), // node i gets 10.244.i.0/24
  serviceCIDR: env('SVC_SERVICE_CIDR', '10.96.0.0/16'),
  dnsIP: env('SVC_DNS_IP', '10.96.0.10'),
  // externalIPs tests take addresses from here; the fabric routes them to a node, nothing else does.
  externalIPRange: env('SVC_EXTERNAL_IP_RANGE', '10.251.0.0/24'),
  clusterDomain: env('SVC_CLUSTER_DOMAIN', 'cluster.local'),
};

/** Time budgets, in milliseconds. */
export const timeouts = {
  clusterUp: Number(env('SVC_TIMEOUT_CLUSTER_UP', '180000')),
  podsReady: Number(env('SVC_TIMEOUT_PODS_READY', '90000')),
  probe: Number(env('SVC_TIMEOUT_PROBE', '3000')),
  /** From a Service change to kube-proxy's rules answering for it. */
  serviceSync: Number(env('SVC_TIMEOUT_SERVICE_SYNC', '30000')),
};
