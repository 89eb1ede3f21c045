// The guide's sections and, for each, the next check the guide makes when it fails.
// Specs pass these as the message of an expectation, so a failure reads:
//   [Does the Service work by DNS name?] ... → next: check the CoreDNS pods ...
export const GUIDE = {
  setup: {
    section: 'Running commands in a Pod',
    next: 'check the hostnames pods: kubectl get pods -l app=hostnames, their events and image',
  },
  exists: {
    section: 'Does the Service exist?',
    next: 'create the Service (kubectl expose deployment hostnames --port=80 --target-port=9376)',
  },
  dns: {
    section: 'Does the Service work by DNS name?',
    next: 'if the ClusterIP works, check the CoreDNS pods (kubectl -n kube-system get pods -l k8s-app=kube-dns), the kube-dns Service and kubelet --cluster-dns / the pod resolv.conf',
  },
  anyDns: {
    section: 'Does any Service work by DNS name?',
    next: 'CoreDNS itself is failing: check its pods, logs and the kubernetes plugin in its Corefile',
  },
  ip: {
    section: 'Does the Service work by IP?',
    next: 'check the Service definition, its Endpoints, the pods themselves, then kube-proxy (is it running, what rules did it write)',
  },
  definition: {
    section: 'Is the Service defined correctly?',
    next: "compare the Service's port, targetPort and protocol with the pods' containerPort",
  },
  endpoints: {
    section: 'Does the Service have any Endpoints?',
    next: "compare the Service's selector with the pods' labels, and check that the pods are Ready",
  },
  pods: {
    section: 'Are the Pods working?',
    next: 'the pods do not answer on podIP:9376: check their logs, restarts, and the CNI routes between nodes',
  },
  kubeProxy: {
    section: 'Is the kube-proxy working?',
    next: 'check that kube-proxy runs on every node and read its logs',
  },
  rules: {
    section: 'Is kube-proxy writing iptables rules?',
    next: "read the node's rules for the Service (iptables-save | grep hostnames, or nft list table ip kube-proxy)",
  },
  proxying: {
    section: 'Is kube-proxy proxying?',
    next: 'kube-proxy wrote rules but the VIP does not answer from the node: check conntrack and the DNAT targets',
  },
  hairpin: {
    section: 'Edge case: A Pod fails to reach itself via the Service IP',
    next: "check hairpin mode on the pod's bridge port (/sys/class/net/<veth>/brport/hairpin_mode) or the CNI bridge's hairpinMode",
  },
  // Beyond the guide: the layers under the guide's checks, and the Service types and policies it stops short of.
  controlPlane: {
    section: 'Beyond the guide: the control plane',
    next: 'check kube-apiserver, kube-controller-manager and kube-scheduler: that each runs, and their logs',
  },
  nodeNetwork: {
    section: "Beyond the guide: the nodes' network",
    next: "check the node's forwarding, firewall and routes: sysctl net.ipv4.ip_forward, iptables-save / nft list ruleset, ip route",
  },
  nodePort: {
    section: 'Beyond the guide: NodePort',
    next: "check kube-proxy's KUBE-NODEPORTS chain (nft: service-nodeports map) on the node, and its --nodeport-addresses",
  },
  trafficPolicy: {
    section: 'Beyond the guide: externalTrafficPolicy',
    next: 'Local must not masquerade and must drop on nodes without a ready local endpoint: read the KUBE-EXT chain and the healthCheckNodePort',
  },
  externalName: {
    section: 'Beyond the guide: ExternalName',
    next: "check the Service's spec.externalName and that CoreDNS answers a CNAME for it (kubernetes plugin)",
  },
  externalIPs: {
    section: 'Beyond the guide: externalIPs',
    next: "check the Service's spec.externalIPs, kube-proxy's '<svc> external IP' rule on the node, and the route to that node",
  },
  affinity: {
    section: 'Beyond the guide: session affinity',
    next: "check spec.sessionAffinity and kube-proxy's recent-match (iptables) or affinity set (nftables) for the Service",
  },
  headless: {
    section: 'Beyond the guide: headless Services',
    next: "check that clusterIP is None, the pods are Ready and listed in the EndpointSlices, and the pods' hostname/subdomain",
  },
  udp: {
    section: 'Beyond the guide: UDP',
    next: 'check the UDP rules for the Service, and conntrack -L -p udp for entries still sending to a removed endpoint',
  },
  conntrack: {
    section: 'Beyond the guide: conntrack',
    next: "read the flow's entry on its nodes (conntrack -L -p udp --orig-port-src <port>): one still sending to a removed pod or an old target port is one kube-proxy did not clear (its log, the conntrack tool, netlink access); for TCP, kube-proxy's conntrack settings (sysctl net.netfilter.nf_conntrack_tcp_*) and its ct state INVALID drop rule",
  },
  trafficDistribution: {
    section: 'Beyond the guide: traffic distribution',
    next: "read the EndpointSlices' hints (forZones, forNodes) and the nodes' topology.kubernetes.io/zone labels, then the endpoints kube-proxy wrote for the Service on the client's node",
  },
  recovery: {
    section: 'Beyond the guide: recovery',
    next: "read kube-proxy's log on the node: a full sync after its start, 'IPTables canary deleted' after a flush (its canary monitor polls every syncPeriod), its watches reconnecting after an API server restart; then its healthz and kubeproxy_sync_proxy_rules_last_timestamp_seconds. For KUBE-IPTABLES-HINT, kubelet's log",
  },
} as const;

export type GuideSection = keyof typeof GUIDE;

/** A section of the guide (by key) or one a project defined (sections.ts): its title and next step. */
export type SectionRef = GuideSection | { title: string; next: string };

export function titleAndNext(section: SectionRef): { title: string; next: string } {
  return typeof section === 'string' ? { title: GUIDE[section].section, next: GUIDE[section].next } : section;
}

/** "[Does the Service work by DNS name?] short name from the same namespace → next: ..." */
export function because(section: SectionRef, what: string): string {
  const { title, next } = titleAndNext(section);
  return `[${title}] ${what} → next: ${next}`;
}
