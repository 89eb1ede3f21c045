// Picks the provider for a run, from the environment the CLI sets (SVC_PROVIDER,
// SVC_KUBECONFIG, SVC_NODES, SVC_PROXY_MODE, SVC_CLUSTER_NAME), and says why. A kubeconfig
// is never picked up implicitly: only SVC_KUBECONFIG (or --kubeconfig) names one.
import { UsageError } from '../errors.js';
import { findArtifacts } from './local/artifacts.js';
import { DEFAULT_LOCAL_NAME, LocalProvider } from './local.js';
import type { ClusterOptions, ClusterProvider, ProxyMode } from './provider.js';

export interface ProviderChoice {
  provider: ClusterProvider;
  options: ClusterOptions;
  reason: string;
  /** Tear the cluster down after the run: it was made for this run alone. */
  destroyAfter: boolean;
}

const PROVIDERS = ['local', 'kind', 'k3s', 'existing'] as const;
const PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;

export function clusterOptionsFromEnv(env = process.env): ClusterOptions {
  const nodes = env.SVC_NODES ? Number(env.SVC_NODES) : undefined;
  if (nodes !== undefined && !(Number.isInteger(nodes) && nodes >= 1 && nodes <= 8)) {
    throw new UsageError(`--nodes must be a whole number from 1 to 8, not "${env.SVC_NODES}"`);
  }
  const proxyMode = env.SVC_PROXY_MODE as ProxyMode | undefined;
  if (proxyMode && !PROXY_MODES.includes(proxyMode)) {
    throw new UsageError(`--proxy-mode must be one of ${PROXY_MODES.join(', ')}, not "${proxyMode}"`);
  }
  return { name: env.SVC_CLUSTER_NAME || undefined, nodes, proxyMode };
}

export async function chooseProvider(env = process.env): Promise<ProviderChoice> {
  const options = clusterOptionsFromEnv(env);
  const asked = env.SVC_PROVIDER;
  if (asked && !(PROVIDERS as readonly string[]).includes(asked)) {
    throw new UsageError(`unknown provider "${asked}": choose one of ${PROVIDERS.join(', ')}`);
  }
  if (env.SVC_KUBECONFIG || asked === 'existing') {
    throw new UsageError('the existing-cluster provider (--kubeconfig) is not available in this version yet; use --provider local');
  }
  if (asked === 'kind' || asked === 'k3s') {
    throw new UsageError(`the ${asked} provider is not available in this version yet; use --provider local`);
  }
  const local = new LocalProvider();
  if (!asked) {
    try {
      findArtifacts();
    } catch (error) {
      throw new UsageError(`no cluster to test: ${(error as Error).message}; or name a cluster with --kubeconfig FILE`);
    }
  }
  const wasUp = await local.isUp(options.name ?? DEFAULT_LOCAL_NAME, options);
  const keep = env.SVC_KEEP_CLUSTER === '1';
  return {
    provider: local,
    options,
    reason: asked ? 'asked for' : wasUp ? 'a local cluster of this shape is already up' : 'default: local cluster setup is done on this machine',
    destroyAfter: !wasUp && !keep,
  };
}
