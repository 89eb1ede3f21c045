// The one seam between the specs and a cluster: every provider (local, kind, k3s,
// existing) creates or attaches to a cluster and answers these questions about it.

export type ProviderName = 'local' | 'kind' | 'k3s' | 'existing';
export type ProxyMode = 'iptables' | 'nftables' | 'ipvs';

/** How "run a command on a node" is done: the suites never need to know, but reports say it. */
export type NodeAccess = 'netns' | 'docker-exec' | 'privileged-pod' | 'none';

/** What a cluster is, as the specs see it. Serialisable: globalSetup hands it to the workers. */
export interface ClusterHandle {
  provider: ProviderName;
  name: string;
  kubeconfig: string;
  nodeAccess: NodeAccess;
  capabilities: Capabilities;
  /** Provider-specific facts a node command needs (e.g. the local cluster's netns per node). */
  nodes: NodeInfo[];
  /**
   * A client outside the cluster on the nodes' network (the local cluster's fabric
   * namespace): what NodePort, externalTrafficPolicy and externalIPs checks send from.
   * Absent where the provider has none; those checks skip with the reason.
   */
  external?: ExternalClient;
}

export interface ExternalClient {
  /** Where its commands run: a network namespace (nodeAccess netns) or a container. */
  target: string;
  /** Its own address, as a backend sees it when nothing rewrites the source. */
  address: string;
  /** Addresses the provider routes only inside its own namespaces, for externalIPs tests. */
  externalIPRange: string;
}

export interface Capabilities {
  kubernetesVersion: string;
  proxyMode: ProxyMode | 'unknown';
  cni: string;
  ipFamilies: ('IPv4' | 'IPv6')[];
  nodeCount: number;
  clusterDomain: string;
  dnsIP: string;
}

export interface NodeInfo {
  name: string;
  internalIP: string;
  /** local provider: the node's network namespace; kind: the node container. */
  target?: string;
}

export interface ClusterOptions {
  name?: string;
  nodes?: number;
  proxyMode?: ProxyMode;
}

/** A provider creates (or attaches to) a cluster, and later removes what it made. */
export interface ClusterProvider {
  readonly name: ProviderName;
  /** Creates the cluster (or attaches) and returns once nodes are Ready and DNS answers. */
  up(options: ClusterOptions): Promise<ClusterHandle>;
  /** Removes everything up() made; harmless when called twice or after a crash. */
  down(name?: string): Promise<void>;
}
