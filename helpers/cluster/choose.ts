// Picks the provider for a run, from the environment the CLI sets (SVC_PROVIDER,
// SVC_KUBECONFIG, SVC_CONTEXT, SVC_NODES, SVC_PROXY_MODE, SVC_CLUSTER_NAME), and says why.
// A kubeconfig is never picked up implicitly: only SVC_KUBECONFIG (or --kubeconfig) names one.
// Every refusal is a UsageError (exit 2) that names what to do.
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { ExistingProvider } from './existing.js';
import { K3sProvider } from './k3s.js';
import { k3sImage, requireK3sImage } from './k3s/image.js';
import { KindProvider } from './kind.js';
import { findArtifacts } from './local/artifacts.js';
import { DEFAULT_LOCAL_NAME, LocalProvider } from './local.js';
import type { ClusterOptions, ClusterProvider, ProviderName, ProxyMode } from './provider.js';

export interface ProviderChoice {
  provider: ClusterProvider;
  options: ClusterOptions;
  reason: string;
  /** Tear the cluster down after the run: it was made for this run alone. */
  destroyAfter: boolean;
}

export const PROVIDERS = ['local', 'kind', 'k3s', 'existing'] as const;
const PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;

export function clusterOptionsFromEnv(env = process.env): ClusterOptions {
  const nodes = env.SVC_NODES ? Number(env.SVC_NODES) : undefined;
  if (nodes !== undefined && !(Number.isInteger(nodes) && nodes >= 1 && nodes <= 8)) {
    throw new UsageError(`--nodes "${env.SVC_NODES}" is not a node count; give a whole number from 1 to 8`);
  }
  const proxyMode = env.SVC_PROXY_MODE as ProxyMode | undefined;
  if (proxyMode && !PROXY_MODES.includes(proxyMode)) {
    throw new UsageError(`unknown --proxy-mode "${proxyMode}"; choose one of ${PROXY_MODES.join(', ')}`);
  }
  return { name: env.SVC_CLUSTER_NAME || undefined, nodes, proxyMode };
}

export async function chooseProvider(env = process.env): Promise<ProviderChoice> {
  const options = clusterOptionsFromEnv(env);
  const asked = env.SVC_PROVIDER;
  if (asked) await requireProvider(asked);
  if (env.SVC_KUBECONFIG || asked === 'existing') {
    if (!env.SVC_KUBECONFIG) throw new UsageError('--provider existing needs the cluster\'s kubeconfig; pass --kubeconfig FILE');
    if (asked && asked !== 'existing') throw new UsageError(`--kubeconfig names an existing cluster, so --provider ${asked} does not apply; drop one of the two`);
    return { provider: new ExistingProvider(env.SVC_KUBECONFIG, env.SVC_CONTEXT), options, reason: `--kubeconfig ${env.SVC_KUBECONFIG}`, destroyAfter: false };
  }
  if (asked === 'kind') {
    const config = env.SVC_KIND_CONFIG || undefined;
    return { provider: new KindProvider(config), options, reason: `asked for (kind config ${config ?? 'iptables'})`, destroyAfter: env.SVC_KEEP_CLUSTER !== '1' };
  }
  if (asked === 'k3s') {
    return { provider: new K3sProvider(), options, reason: `asked for (image ${await k3sImage(env)})`, destroyAfter: env.SVC_KEEP_CLUSTER !== '1' };
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

/**
 * Refuses a provider name this version cannot run, saying why: unknown, or (kind, k3s)
 * no Docker engine answering, or (k3s) its image not in that engine. Checked before anything is created.
 */
export async function requireProvider(name: string): Promise<ProviderName> {
  if (!(PROVIDERS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown provider "${name}"; choose one of ${PROVIDERS.join(', ')}`);
  }
  if (name === 'kind' || name === 'k3s') {
    await requireDocker(name);
    if (name === 'k3s') await requireK3sImage();
  }
  return name as ProviderName;
}

/** kind and k3s run their nodes as containers: a Docker engine must answer `docker info`. */
async function requireDocker(provider: string): Promise<void> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { allowFailure: true, timeoutMs: 15_000 });
  if (info.exitCode === 0 && info.stdout.trim()) return;
  const said = (info.stderr || info.stdout).split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('Client')) ?? `exit ${info.exitCode}`;
  const missing = /ENOENT/.test(said);
  throw new UsageError(
    missing
      ? `the ${provider} provider needs Docker, and no docker command is installed; install Docker, or use --provider local`
      : `the ${provider} provider needs a running Docker engine, and none answers (docker info: ${said}); start Docker (or point DOCKER_HOST at one), or use --provider local`,
  );
}
