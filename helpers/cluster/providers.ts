// The one provider registry: every provider by name, made with the run's settings, and the
// choice of provider for a run (the CLI's `run` and `cluster`, and vitest's globalSetup, all
// come here). A kubeconfig is never picked up implicitly: only --kubeconfig names one. Every
// refusal is a UsageError (exit 2) that names what to do.
import { versions } from '../config.js';
import { UsageError } from '../errors.js';
import { PROVIDER_NAMES, type ProviderName, type Settings } from '../settings.js';
import { ExistingProvider } from './existing.js';
import { K3sProvider } from './k3s.js';
import { k3sImage } from './k3s/image.js';
import { KindProvider } from './kind.js';
import { LocalProvider } from './local.js';
import type { ClusterOptions, ClusterProvider } from './provider.js';

const PROVIDERS: Record<ProviderName, (settings: Settings) => ClusterProvider> = {
  local: (settings) => new LocalProvider(settings),
  kind: (settings) => new KindProvider(settings),
  k3s: (settings) => new K3sProvider(settings),
  existing: (settings) => {
    if (!settings.run.kubeconfig)
      throw new UsageError("--provider existing needs the cluster's kubeconfig; pass --kubeconfig FILE");
    return new ExistingProvider(settings.run.kubeconfig, settings.run.context);
  },
};

/** The provider called `name`, checked for what this machine must have for it (Docker, an image). */
export async function providerNamed(name: ProviderName, settings: Settings): Promise<ClusterProvider> {
  if (!(PROVIDER_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown provider "${name}"; choose one of ${PROVIDER_NAMES.join(', ')}`);
  }
  if (settings.run.kubernetes && name !== 'local') {
    throw new UsageError(
      `--kubernetes ${settings.run.kubernetes} chooses the local provider's version; ${name === 'existing' ? 'a cluster you bring runs its own' : `the ${name} provider runs its image's (${versions.kubernetes})`}: drop --kubernetes or use --provider local`,
    );
  }
  if (settings.run.ipFamily && settings.run.ipFamily !== 'ipv4' && name !== 'local') {
    throw new UsageError(
      name === 'existing'
        ? `--ip-family ${settings.run.ipFamily} makes a local cluster; a cluster you bring serves the families it has (the IP-family checks follow them): drop --ip-family`
        : `--ip-family ${settings.run.ipFamily} makes a local cluster; the ${name} provider's families come from its own config (a kind config FILE with networking.ipFamily: ${settings.run.ipFamily}): drop --ip-family or use --provider local`,
    );
  }
  if (settings.run.zones && name !== 'local') {
    throw new UsageError(
      `--zones ${settings.run.zones} labels a local cluster's nodes; ${name === 'existing' ? 'a cluster you bring keeps its own zone labels' : `label the ${name} nodes with topology.kubernetes.io/zone in its config`}: drop --zones or use --provider local`,
    );
  }
  if (settings.run.cni && name !== 'local') {
    throw new UsageError(
      `--cni ${settings.run.cni} chooses a local cluster's pod network; ${name === 'existing' ? 'a cluster you bring runs its own CNI' : `the ${name} provider runs its own`}: drop --cni or use --provider local`,
    );
  }
  const provider = PROVIDERS[name](settings);
  await provider.check();
  return provider;
}

export interface ProviderChoice {
  provider: ClusterProvider;
  options: ClusterOptions;
  reason: string;
  /** Tear the cluster down after the run: it was made for this run alone. */
  destroyAfter: boolean;
}

export function clusterOptions(settings: Settings): ClusterOptions {
  return {
    name: settings.run.clusterName,
    nodes: settings.run.nodes,
    proxyMode: settings.run.proxyMode,
    kubernetes: settings.run.kubernetes,
    ipFamily: settings.run.ipFamily,
    zones: settings.run.zones,
    cni: settings.run.cni,
  };
}

export async function chooseProvider(settings: Settings): Promise<ProviderChoice> {
  const { run } = settings;
  const options = clusterOptions(settings);
  const asked = run.provider;
  if (run.kubeconfig && asked && asked !== 'existing') {
    throw new UsageError(
      `--kubeconfig names an existing cluster, so --provider ${asked} does not apply; drop one of the two`,
    );
  }
  const name: ProviderName = run.kubeconfig ? 'existing' : (asked ?? 'local');
  let provider: ClusterProvider;
  try {
    provider = await providerNamed(name, settings);
  } catch (error) {
    // The default provider missing its setup: say that a cluster can also be named.
    if (asked || run.kubeconfig || run.kubernetes || !(error instanceof Error)) throw error;
    throw new UsageError(`no cluster to test: ${error.message}; or name a cluster with --kubeconfig FILE`);
  }
  if (name === 'existing') return { provider, options, reason: `--kubeconfig ${run.kubeconfig}`, destroyAfter: false };
  const kept = await provider.isUp(options);
  const reason =
    name === 'kind'
      ? `asked for (kind config ${run.kindConfig ?? 'iptables'})`
      : name === 'k3s'
        ? `asked for (image ${await k3sImage(settings)})`
        : asked
          ? 'asked for'
          : kept
            ? 'a local cluster of this shape is already up'
            : 'default: local cluster setup is done on this machine';
  // A cluster that was up before the run is left up; one made for the run goes with it, unless kept.
  const destroyAfter = name === 'local' ? !kept && !run.keepCluster : !run.keepCluster;
  return { provider, options, reason, destroyAfter };
}
