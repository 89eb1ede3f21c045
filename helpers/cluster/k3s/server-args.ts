// The `k3s server` command line the provider runs, and the files it puts in the container
// first. What it changes from k3s's defaults, and why:
//   - no traefik, metrics-server, local-storage, servicelb or helm-controller: the suites use
//     none of them, and their images could only come from a registry;
//   - --resolv-conf: k3s replaces a resolv.conf with loopback nameservers (Docker's 127.0.0.11)
//     by one naming 8.8.8.8; ours names the cluster's own DNS, so nothing upstream is ever asked
//     (the provider also gives CoreDNS a Corefile without `forward`);
//   - kube-proxy leaves the host's conntrack sysctls and its own oom_score_adj alone (root here
//     lacks CAP_SYS_RESOURCE), in the mode asked for;
//   - kubelet never garbage-collects the preloaded images (there is no registry to pull them back);
//   - flannel off only for an image without its CNI plugin (cni.ts gives that node a bridge).
import type { ProxyMode } from '../provider.js';

/** Where the provider writes its resolv.conf inside the container. */
export const RESOLV_CONF = '/etc/svc-conformance/resolv.conf';
/** k3s renders containerd's config from this template when it exists (containerd 2.x, config v3). */
export const CONTAINERD_TEMPLATE = '/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl';
/** k3s's default Service range puts kube-dns here. */
export const K3S_DNS_IP = '10.43.0.10';

export interface ServerArgsOptions {
  nodeName: string;
  proxyMode: Exclude<ProxyMode, 'ipvs'>;
  clusterDomain: string;
  /** No flannel: the provider writes a bridge CNI config itself (see cni.ts). */
  withoutFlannel?: boolean;
}

export function serverArgs({
  nodeName,
  proxyMode,
  clusterDomain,
  withoutFlannel = false,
}: ServerArgsOptions): string[] {
  return [
    'server',
    `--node-name=${nodeName}`,
    '--disable=traefik,metrics-server,local-storage,servicelb',
    '--disable-helm-controller',
    `--cluster-domain=${clusterDomain}`,
    `--resolv-conf=${RESOLV_CONF}`,
    `--kube-proxy-arg=proxy-mode=${proxyMode}`,
    '--kube-proxy-arg=conntrack-max-per-core=0',
    '--kube-proxy-arg=conntrack-tcp-timeout-established=0s',
    '--kube-proxy-arg=conntrack-tcp-timeout-close-wait=0s',
    '--kube-proxy-arg=oom-score-adj=0',
    '--kubelet-arg=image-gc-high-threshold=100',
    '--kubelet-arg=image-gc-low-threshold=99',
    ...(withoutFlannel ? ['--flannel-backend=none'] : []),
  ];
}

/** Pods with dnsPolicy Default (CoreDNS among them) get this: only the cluster's own DNS. */
export function resolvConf(dnsIP = K3S_DNS_IP): string {
  return `# svc-conformance: nothing outside the cluster is asked\nnameserver ${dnsIP}\n`;
}
