// CoreDNS for a throwaway cluster: the kube-dns Service on the conventional DNS IP and a
// Corefile with no `forward` (the image has no forward plugin either). Cluster names come
// from the kubernetes plugin; every other name answers NXDOMAIN from a separate server
// block (a `template` in the cluster block would shadow the kubernetes plugin).
import type { FamilyNet } from './layout.js';
import type * as k8s from '@kubernetes/client-node';
import type { Settings } from '../../settings.js';

export const COREDNS_LABELS = { 'k8s-app': 'kube-dns' };

export function corefile(domain: string): string {
  return `${domain}:53 in-addr.arpa:53 ip6.arpa:53 {
    errors
    health
    ready
    kubernetes ${domain} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    cache 30
    reload
    loadbalance
}
.:53 {
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`;
}

/** CoreDNS's objects; kube-dns gets the DNS address of each of the cluster's families, primary first. */
export function corednsObjects(settings: Settings, families: FamilyNet[]): k8s.KubernetesObject[] {
  const { images, network } = settings;
  const ns = 'kube-system';
  const meta = (name: string) => ({ name, namespace: ns, labels: COREDNS_LABELS });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as k8s.V1ClusterRole,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    } as k8s.V1ClusterRoleBinding,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('coredns'),
      data: { Corefile: corefile(network.clusterDomain) },
    } as k8s.V1ConfigMap,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('coredns'),
      spec: {
        replicas: 1,
        selector: { matchLabels: COREDNS_LABELS },
        template: {
          metadata: { labels: COREDNS_LABELS },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'coredns',
                image: images.coredns,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2, failureThreshold: 3 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 30, periodSeconds: 10 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    } as k8s.V1Deployment,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('kube-dns'),
      spec: {
        clusterIP: families[0].dnsIP,
        clusterIPs: families.map((f) => f.dnsIP),
        ipFamilies: families.map((f) => f.family),
        ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
        selector: COREDNS_LABELS,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    } as k8s.V1Service,
  ];
}
