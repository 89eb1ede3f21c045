// The configuration files of the local cluster's components: kubeconfigs, containerd,
// CNI, kubelet and kube-proxy. Each function returns the text of one file.
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Settings } from '../../settings.js';
import type { ProxyMode } from '../provider.js';
import { familyNets, primaryNet, type ClusterLayout, type IpFamily, type NodeLayout } from './layout.js';
import type { ClientCert } from './pki.js';

export function kubeconfig(server: string, ca: string, user: string, cert: ClientCert, clusterName: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: user, user: { 'client-certificate': cert.cert, 'client-key': cert.key } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user } }],
    'current-context': clusterName,
  });
}

export function containerdConfig(node: NodeLayout, cniConfDir: string, settings: Settings): string {
  const cri = 'io.containerd.grpc.v1.cri';
  return `version = 2
root = "${node.stateDir}/containerd"
state = "${node.runDir}/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${containerdSocket(node)}"

[ttrpc]
  address = "${node.runDir}/containerd-ttrpc.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "${node.stateDir}/containerd-opt"

[plugins."${cri}"]
  sandbox_image = "${settings.images.pause}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"

[plugins."${cri}".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."${cri}".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."${cri}".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "${node.runDir}/runc"

[plugins."${cri}".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${cniConfDir}"
`;
}

export const containerdSocket = (node: NodeLayout) => `${node.runDir}/containerd.sock`;

/** The bridge plugin with hairpin mode: a pod reaches itself through its own Service VIP. One range per family. */
export function cniConfig(node: NodeLayout, families: IpFamily[]): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'svc-conformance',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: families.map((f) => [{ subnet: node.podCIDRs[f] }]),
            routes: families.map((f) => ({ dst: f === 'IPv4' ? '0.0.0.0/0' : '::/0' })),
            dataDir: `${node.stateDir}/cni-ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(node: NodeLayout, ca: string, resolvConf: string, layout: ClusterLayout): string {
  const { settings, families } = layout;
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // Where the API server reaches it: the node's address of the primary family ('::' takes both).
    address: families.includes('IPv6') ? '::' : node.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: ca } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroup,
    cgroupsPerQOS: true,
    enforceNodeAllocatable: ['pods'],
    failCgroupV1: false,
    failSwapOn: false,
    clusterDNS: [primaryNet(layout).dnsIP],
    clusterDomain: settings.network.clusterDomain,
    resolvConf,
    // Each node its own: a kubelet removes the pod log directories of pods it does not run (its
    // container GC), so in a shared /var/log/pods every node deletes the others' pods' logs.
    podLogsDir: join(node.stateDir, 'pod-logs'),
    containerRuntimeEndpoint: `unix://${containerdSocket(node)}`,
    imageServiceEndpoint: `unix://${containerdSocket(node)}`,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
    },
    serializeImagePulls: false,
    registerNode: true,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    shutdownGracePeriod: '0s',
    logging: { format: 'text' },
  });
}

export function kubeProxyConfig(
  node: NodeLayout,
  kubeconfigPath: string,
  mode: ProxyMode,
  layout: ClusterLayout,
): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath },
    hostnameOverride: node.name,
    bindAddress: '0.0.0.0',
    clusterCIDR: familyNets(layout)
      .map((net) => net.podCIDR)
      .join(','),
    mode,
    oomScoreAdj: 0,
    metricsBindAddress: '0.0.0.0:10249',
    healthzBindAddress: '0.0.0.0:10256',
    // The table size is the machine's (not a node's) to set; the TCP sysctls are each node netns' own, so kube-proxy
    // sets them as on a real node: CLOSE_WAIT at its default hour, and in nftables mode (no INVALID drop rule)
    // liberal tracking, as upstream's nftables CI runs it, so an out-of-window packet cannot reset a connection.
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '1h',
      ...(mode === 'nftables' ? { tcpBeLiberal: true } : {}),
    },
  });
}
