// The one seam between the specs and a cluster: every provider (local, kind, k3s, existing)
// creates or attaches to a cluster and describes it as a ClusterHandle: its nodes, how a
// command reaches each of them, and what the cluster can do.
import type { CniChoice, IpFamilyChoice, ProviderName, ProxyMode } from '../settings.js';

export type { CniChoice, ProviderName, ProxyMode };

/** How "run a command on a node" is done, as reports say it. */
export type NodeAccess = NodeShellSpec['via'] | 'none';

/**
 * How commands reach one node (or the external client). Plain data, so that globalSetup can
 * hand it to the workers; node-shell.ts makes the object that runs commands from it.
 */
export type NodeShellSpec =
  /** A network namespace of this machine (the local provider's nodes and fabric). */
  | { via: 'netns'; netns: string }
  /** A Docker container of this machine (kind and k3s nodes). */
  | { via: 'docker-exec'; container: string }
  /** A privileged pod on the node, through the API (--node-access privileged-pod). */
  | { via: 'privileged-pod'; namespace: string; pod: string };

/** What a cluster is, as the specs see it. Serialisable: globalSetup hands it to the workers. */
export interface ClusterHandle {
  provider: ProviderName;
  name: string;
  kubeconfig: string;
  nodeAccess: NodeAccess;
  capabilities: Capabilities;
  nodes: NodeInfo[];
  /**
   * A client outside the cluster on the nodes' network (the local cluster's fabric
   * namespace): what NodePort, externalTrafficPolicy and externalIPs checks send from.
   * Absent where the provider has none; those checks skip with the reason.
   */
  external?: ExternalClient;
  /** The counters that show the cluster's traffic stays on this machine, where this project built its network. */
  guard?: GuardSpec;
}

export interface ExternalClient {
  shell: NodeShellSpec;
  /** Its own address, as a backend sees it when nothing rewrites the source. */
  address: string;
  /** Addresses the provider routes only inside its own namespaces, for externalIPs tests. */
  externalIPRange: string;
  /** The pool of the provider's LoadBalancer implementation, reached over the nodes' segment; absent: none of ours. */
  loadBalancerIPRange?: string;
  /** Each family's pool, in the cluster's family order (the first is loadBalancerIPRange). */
  loadBalancerIPRanges?: string[];
}

export type GuardSpec =
  /** The local provider's fabric namespace and uplink table, by cluster name. */
  | { kind: 'local-fabric' }
  /** A host nft table around the Docker network of kind and k3s. */
  | { kind: 'host-table'; table: string };

export interface Capabilities {
  kubernetesVersion: string;
  proxyMode: ProxyMode | 'unknown';
  cni: string;
  ipFamilies: ('IPv4' | 'IPv6')[];
  nodeCount: number;
  clusterDomain: string;
  dnsIP: string;
  /** Distinct topology.kubernetes.io/zone labels among the nodes (0: none). */
  zones?: number;
}

export interface NodeInfo {
  name: string;
  internalIP: string;
  /** How commands reach the node; absent without node access. */
  shell?: NodeShellSpec;
}

/** The well-known label of a node's zone, which topology-aware routing reads. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface ClusterOptions {
  name?: string;
  nodes?: number;
  proxyMode?: ProxyMode;
  /** The Kubernetes version the local provider runs (default: the pinned one, setup/versions.json). */
  kubernetes?: string;
  /** The address families the local provider's cluster serves (default: ipv4). */
  ipFamily?: IpFamilyChoice;
  /** Zones the local provider labels its nodes into (topology.kubernetes.io/zone), round robin; none by default. */
  zones?: number;
  /** The local provider's pod network (default: bridge). */
  cni?: CniChoice;
}

/** A provider creates (or attaches to) a cluster, and later removes what it made. */
export interface ClusterProvider {
  readonly name: ProviderName;
  /** The cluster name used when none is given. */
  readonly defaultClusterName: string;
  /** Refuses (UsageError) what this machine lacks for the provider, before anything is made. */
  check(): Promise<void>;
  /** Whether a cluster of this shape is up already (and would be reused by up()). */
  isUp(options: ClusterOptions): Promise<boolean>;
  /** Creates the cluster (or attaches) and returns once nodes are Ready and DNS answers. */
  up(options: ClusterOptions): Promise<ClusterHandle>;
  /** Removes everything up() made; harmless when called twice or after a crash. */
  down(name?: string): Promise<void>;
}
