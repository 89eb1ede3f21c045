// Every setting a user may change, read once from the command line's flags and the SVC_*
// variables into one typed object that is passed down (providers, the cluster a spec sees,
// the reports). This is the only module that reads the environment; a child process (vitest,
// the self-test's runs) gets its settings as SVC_* variables made by childEnv().
import { availableParallelism, homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { repoRoot, versions } from './config.js';
import { UsageError } from './errors.js';
import { addressInRange, parseAddressRange, rangeContains } from './parse/cidr.js';

export const PROVIDER_NAMES = ['local', 'kind', 'k3s', 'existing'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
export const PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];
export const NODE_ACCESS_CHOICES = ['privileged-pod', 'none'] as const;
export const IP_FAMILY_CHOICES = ['ipv4', 'ipv6', 'dual'] as const;
export type IpFamilyChoice = (typeof IP_FAMILY_CHOICES)[number];
export type NodeAccessChoice = (typeof NODE_ACCESS_CHOICES)[number];
/** The local cluster's pod network: the bridge plugin over routes the provider adds, or flannel's VXLAN overlay. */
export const CNI_CHOICES = ['bridge', 'flannel'] as const;
export type CniChoice = (typeof CNI_CHOICES)[number];

/** Addresses of the local cluster. All of them live only in network namespaces the provider makes. */
export interface LocalNetwork {
  /** The nodes' shared segment. */
  nodeSubnet: string;
  /** Node i gets 10.244.i.0/24 of it. */
  podCIDR: string;
  serviceCIDR: string;
  dnsIP: string;
  /** externalIPs tests take addresses from here; the fabric routes them to a node, nothing else does. */
  externalIPRange: string;
  /** LoadBalancer addresses MetalLB hands out; the nodes announce them on their segment (L2), nothing routes them further. */
  loadBalancerIPRange: string;
  clusterDomain: string;
}

/** Time budgets, in milliseconds. */
export interface Timeouts {
  clusterUp: number;
  podsReady: number;
  probe: number;
  /** From a Service change to kube-proxy's rules answering for it. */
  serviceSync: number;
  /** From a LoadBalancer Service's creation to its ingress address; without one by then, the LoadBalancer checks skip. */
  loadBalancer: number;
}

/** What one run asks for: the cluster, which checks, and what happens to the cluster after. */
export interface RunSettings {
  provider?: ProviderName;
  kubeconfig?: string;
  context?: string;
  clusterName?: string;
  nodes?: number;
  proxyMode?: ProxyMode;
  kindConfig?: string;
  nodeAccess?: NodeAccessChoice;
  preset?: string;
  keepCluster: boolean;
  runId?: string;
  /** Written by `svc-conformance run` for its vitest: the cluster it made or attached to. */
  clusterHandleFile?: string;
  /** Spec files at once (vitest workers). */
  parallel: number;
  /** JSON Patches for the objects the workload helpers make (see docs/ARCHITECTURE.md). */
  workloadPatchFile?: string;
  /** A project's own spec folders (absolute), run beside the suites' (--suites, svc-conformance.config.ts). */
  suiteDirs: string[];
  /** The Kubernetes version of a local cluster (--kubernetes, SVC_KUBERNETES; unset: the pinned one). */
  kubernetes?: string;
  /** The address families of a local cluster (--ip-family, SVC_IP_FAMILY; unset: ipv4). */
  ipFamily?: IpFamilyChoice;
  /** Zones the local cluster's nodes are labelled into, round robin (--zones, SVC_ZONES; unset: no zone label). */
  zones?: number;
  /** The local cluster's CNI (--cni, SVC_CNI; unset: bridge). */
  cni?: CniChoice;
  /**
   * Disrupt a cluster you bring too (--disruptive, SVC_DISRUPTIVE=1): the recovery checks restart its
   * kube-proxy and flush its rules. Clusters a run makes are disrupted without it; it changes nothing there.
   */
  disruptive: boolean;
}

export interface Settings {
  /** Where setup keeps builds and image archives (SVC_CACHE). */
  cacheDir: string;
  /** What a run derives from the code (vitest's caches, collected names): SVC_BUILD_DIR, as the
   * command sets it (bin/svc-conformance.js), or a checkout's .build/. */
  buildDir: string;
  /** Where reports go (SVC_RESULTS). */
  resultsDir: string;
  junitFile: string;
  /** The images the suites and the local cluster run. Users with a registry may point these at upstream images. */
  images: {
    agnhost: string;
    client: string;
    pause: string;
    coredns: string;
    metallbController: string;
    metallbSpeaker: string;
  };
  network: LocalNetwork;
  timeouts: Timeouts;
  run: RunSettings;
  kind: {
    network: string;
    binary?: string;
    nodeImage?: string;
    /** externalIPs checks take addresses from here on kind and k3s: switched to one node on the Docker network, routed nowhere (setup/kind/network.sh). */
    externalIPRange: string;
    externalIPRange6: string;
    /** MetalLB's pool on kind: in the Docker network's subnet, off the range Docker assigns containers (setup/kind/network.sh). */
    loadBalancerIPRange: string;
    loadBalancerIPRange6: string;
  };
  k3s: { image?: string };
  /** Keep a kind or k3s cluster that failed to come up, for its logs. */
  keepFailed: boolean;
  /** Print each wait's duration. */
  trace: boolean;
  /** Where every process of a run appends its phases (SVC_PHASES; helpers/host/phases.ts), for the bench. */
  phasesFile?: string;
  /** Print the cause of an exit-2 error. */
  debug: boolean;
  ci: boolean;
  /** PATH, split: where host commands are looked for. */
  searchPath: string[];
}

type Env = Record<string, string | undefined>;

export function readSettings(env: Env = process.env): Settings {
  const get = (name: string, fallback: string): string => env[name] || fallback;
  const cacheDir = get('SVC_CACHE', join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'svc-conformance'));
  const resultsDir = get('SVC_RESULTS', join(repoRoot, 'test-results'));
  return {
    cacheDir,
    buildDir: get('SVC_BUILD_DIR', join(repoRoot, '.build')),
    resultsDir,
    junitFile: get('SVC_JUNIT', join(resultsDir, 'junit.xml')),
    images: {
      agnhost: get('SVC_IMAGE_AGNHOST', `localhost/svc-conformance/agnhost:${versions.kubernetes}`),
      client: get('SVC_IMAGE_CLIENT', `localhost/svc-conformance/client:${versions.kubernetes}`),
      pause: get('SVC_IMAGE_PAUSE', `localhost/svc-conformance/pause:${versions.kubernetes}`),
      coredns: get('SVC_IMAGE_COREDNS', `localhost/svc-conformance/coredns:${versions.coredns}`),
      metallbController: get(
        'SVC_IMAGE_METALLB_CONTROLLER',
        `localhost/svc-conformance/metallb-controller:${versions.metallb}`,
      ),
      metallbSpeaker: get('SVC_IMAGE_METALLB_SPEAKER', `localhost/svc-conformance/metallb-speaker:${versions.metallb}`),
    },
    network: {
      nodeSubnet: get('SVC_NODE_SUBNET', '10.250.0.0/24'),
      podCIDR: get('SVC_POD_CIDR', '10.244.0.0/16'),
      serviceCIDR: get('SVC_SERVICE_CIDR', '10.96.0.0/16'),
      dnsIP: dnsAddress(env, get('SVC_SERVICE_CIDR', '10.96.0.0/16')),
      externalIPRange: get('SVC_EXTERNAL_IP_RANGE', '10.251.0.0/24'),
      loadBalancerIPRange: get('SVC_LB_IP_RANGE', '10.252.0.0/24'),
      clusterDomain: get('SVC_CLUSTER_DOMAIN', 'cluster.local'),
    },
    timeouts: {
      clusterUp: milliseconds(env, 'SVC_TIMEOUT_CLUSTER_UP', 180_000),
      podsReady: milliseconds(env, 'SVC_TIMEOUT_PODS_READY', 90_000),
      probe: milliseconds(env, 'SVC_TIMEOUT_PROBE', 3_000),
      serviceSync: milliseconds(env, 'SVC_TIMEOUT_SERVICE_SYNC', 30_000),
      loadBalancer: milliseconds(env, 'SVC_TIMEOUT_LOAD_BALANCER', 60_000),
    },
    run: {
      provider: oneOf(
        env.SVC_PROVIDER,
        PROVIDER_NAMES,
        (v) => `unknown provider "${v}"; choose one of ${PROVIDER_NAMES.join(', ')}`,
      ),
      kubeconfig: env.SVC_KUBECONFIG || undefined,
      context: env.SVC_CONTEXT || undefined,
      clusterName: env.SVC_CLUSTER_NAME || undefined,
      nodes: nodeCount(env.SVC_NODES),
      zones: zoneCount(env.SVC_ZONES, nodeCount(env.SVC_NODES) ?? 1),
      proxyMode: oneOf(
        env.SVC_PROXY_MODE,
        PROXY_MODES,
        (v) => `unknown --proxy-mode "${v}"; choose one of ${PROXY_MODES.join(', ')}`,
      ),
      kindConfig: env.SVC_KIND_CONFIG || undefined,
      nodeAccess: oneOf(
        env.SVC_NODE_ACCESS,
        NODE_ACCESS_CHOICES,
        (v) =>
          `unknown --node-access "${v}"; choose privileged-pod (one privileged pod per node, for the node-level checks) or none`,
      ),
      preset: env.SVC_PRESET || undefined,
      keepCluster: env.SVC_KEEP_CLUSTER === '1',
      disruptive: env.SVC_DISRUPTIVE === '1',
      runId: env.SVC_RUN_ID || undefined,
      clusterHandleFile: env.SVC_CLUSTER_HANDLE_FILE || undefined,
      parallel: Number(get('SVC_PARALLEL', String(defaultParallel()))),
      workloadPatchFile: env.SVC_WORKLOAD_PATCH || undefined,
      suiteDirs: (env.SVC_SUITES ?? '').split(delimiter).filter(Boolean),
      kubernetes: kubernetesVersion(env.SVC_KUBERNETES),
      ipFamily: oneOf(
        env.SVC_IP_FAMILY,
        IP_FAMILY_CHOICES,
        (v) => `unknown --ip-family "${v}"; choose one of ${IP_FAMILY_CHOICES.join(', ')}`,
      ),
      cni: oneOf(env.SVC_CNI, CNI_CHOICES, (v) => `unknown --cni "${v}"; choose one of ${CNI_CHOICES.join(', ')}`),
    },
    kind: {
      network: get('SVC_KIND_NETWORK', 'svc-kind'),
      externalIPRange: get('SVC_KIND_EXTERNAL_IP_RANGE', '10.221.0.0/24'),
      externalIPRange6: get('SVC_KIND_EXTERNAL_IP_RANGE6', 'fd20:221::/112'),
      loadBalancerIPRange: get('SVC_KIND_LB_IP_RANGE', '172.29.1.0/24'),
      loadBalancerIPRange6: get('SVC_KIND_LB_IP_RANGE6', 'fd53:7663:6b69:6e64:1::/112'),
      binary: env.SVC_KIND || undefined,
      nodeImage: env.SVC_KIND_NODE_IMAGE || undefined,
    },
    k3s: { image: env.SVC_K3S_IMAGE || undefined },
    keepFailed: env.SVC_KEEP_FAILED === '1',
    trace: !!env.SVC_TRACE,
    phasesFile: env.SVC_PHASES || undefined,
    debug: !!env.SVC_DEBUG,
    ci: env.CI === 'true',
    searchPath: (env.PATH ?? '').split(':').filter(Boolean),
  };
}

/**
 * The environment for a child process of this run: this one's, with the given SVC_* values
 * set (undefined leaves a variable as it is). The child reads them back with readSettings().
 */
export function childEnv(overrides: Env = {}, base: Env = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...base, ...dropUndefined(overrides) }))
    if (value !== undefined) env[key] = value;
  return env;
}

/** The same environment without any of this project's run settings: a clean slate for a child that sets its own. */
export function envWithout(pattern: RegExp, base: Env = process.env): Record<string, string> {
  return childEnv({}, Object.fromEntries(Object.entries(base).filter(([key]) => !pattern.test(key))));
}

/**
 * testcontainers (the k3s provider) reads its own variables: its reaper is an image no one can
 * pull here, and it must reach containers by address, not through Docker's default bridge.
 */
export function prepareTestcontainers(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
}

function dropUndefined(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

function milliseconds(env: Env, name: string, fallback: number): number {
  const value = env[name] ? Number(env[name]) : fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${name}="${env[name]}" is not a time in milliseconds; give a positive number`);
  return value;
}

function nodeCount(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const nodes = Number(value);
  if (!(Number.isInteger(nodes) && nodes >= 1 && nodes <= 8)) {
    throw new UsageError(`--nodes "${value}" is not a node count; give a whole number from 1 to 8`);
  }
  return nodes;
}

function zoneCount(value: string | undefined, nodes: number): number | undefined {
  if (!value) return undefined;
  const zones = Number(value);
  if (!(Number.isInteger(zones) && zones >= 1 && zones <= nodes)) {
    throw new UsageError(
      `--zones "${value}" is not a zone count for ${nodes} node(s); give a whole number from 1 to ${nodes} (one zone per node at most)`,
    );
  }
  return zones;
}

function oneOf<T extends string>(
  value: string | undefined,
  choices: readonly T[],
  refuse: (v: string) => string,
): T | undefined {
  if (!value) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(refuse(value));
  return value as T;
}

/**
 * Spec files at once when SVC_PARALLEL is unset: three per core, 4 to 10. Specs mostly wait on
 * the cluster, but each worker loads the Kubernetes client and the helpers (~0.7 s of CPU and
 * tens of MB). On 2 cores, 6 workers ran the full suite as fast as 8 (29.6 and 32.5 s against
 * 31.9 and 32.3) in less memory (vitest's peak RSS 0.53 against 0.65 GiB), and take the six
 * spec files of the upstream comparison in one wave.
 */
function defaultParallel(): number {
  return Math.min(10, Math.max(4, 3 * availableParallelism()));
}

/** A release version, v1.MINOR.PATCH; the pinned one counts as unset. */
function kubernetesVersion(value: string | undefined): string | undefined {
  if (!value || value === versions.kubernetes) return undefined;
  if (!/^v1\.\d+\.\d+$/.test(value))
    throw new UsageError(`--kubernetes ${value} is not a release version; give v1.MINOR.PATCH, e.g. v1.33.13`);
  return value;
}

/**
 * The cluster DNS Service's address: SVC_DNS_IP, or the tenth address of SVC_SERVICE_CIDR (10.96.0.10
 * of the default range), so that moving the Service range moves it too. One outside the range is refused.
 */
function dnsAddress(env: NodeJS.ProcessEnv, serviceCIDR: string): string {
  const range = parseAddressRange(serviceCIDR);
  if (!range)
    throw new UsageError(`SVC_SERVICE_CIDR="${serviceCIDR}" is not an address range; give one such as 10.96.0.0/16`);
  const given = env.SVC_DNS_IP;
  if (!given) return addressInRange(serviceCIDR, 10)!;
  const address = parseAddressRange(given);
  if (!address || given.includes('/') || !rangeContains(range, address))
    throw new UsageError(
      `SVC_DNS_IP="${given}" is not an address inside SVC_SERVICE_CIDR ${serviceCIDR}; give one of its addresses, or leave it unset for ${addressInRange(serviceCIDR, 10)}`,
    );
  return given;
}
