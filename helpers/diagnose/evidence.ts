// What the guide would look at for one Service, gathered in one pass: the Service, its
// pods, Endpoints and EndpointSlices, events, kube-proxy and the Service's rules on every
// node, CoreDNS and a direct query to it, a pod's resolv.conf. Each piece is collected on
// its own: one that cannot be read is recorded as such and the rest goes on.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { Kube } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { endpointsOf, endpointSliceAddresses, podsSelectedBy, type EndpointAddress } from '../kube/services.js';
import { describeHairpin, podBridgePort } from '../node/bridge-port.js';
import { kubeProxyStatus, type KubeProxyStatus } from '../node/kube-proxy.js';
import { nodeLookup } from '../node/node-probe.js';
import { programmedDestinations } from '../node/proxy-rules.js';
import { nodeAccessSkipReason, runOnNode } from '../node/run-on-node.js';
import { parseResolvConf, type ResolvConf } from '../parse/resolv-conf.js';
import { serviceDefinitionProblems } from './service-definition.js';
import { explainNoEndpoints } from './endpoints.js';

export interface NodeEvidence {
  node: string;
  kubeProxy?: KubeProxyStatus;
  /** DNAT targets kube-proxy programmed for the Service's first port. */
  programmed?: string[];
  conntrack?: string;
  /** Pod CIDRs of other nodes this node has no route to. */
  missingPodRoutes?: string[];
  /** The hairpin setting of each backend pod's bridge port on this node. */
  hairpin?: { pod: string; on: boolean; description: string }[];
  errors: string[];
}

export interface Evidence {
  namespace: string;
  service: string;
  found: boolean;
  serviceSpec?: k8s.V1ServiceSpec;
  pods: {
    name: string;
    container: string;
    node?: string;
    ip?: string;
    ready: boolean;
    restarts: number;
    summary: string;
  }[];
  selectorExplanation?: string;
  definitionProblems: string[];
  endpoints: EndpointAddress[];
  slices: EndpointAddress[];
  events: string[];
  nodes: NodeEvidence[];
  coredns: { readyPods: number; pods: string[]; directQuery?: string };
  resolvConf?: { pod: string; conf: ResolvConf };
  errors: string[];
}

export async function collectEvidence(cluster: Cluster, namespace: string, service: string): Promise<Evidence> {
  const kube = new Kube(cluster.kubeconfig);
  const ev: Evidence = {
    namespace,
    service,
    found: false,
    pods: [],
    definitionProblems: [],
    endpoints: [],
    slices: [],
    events: [],
    nodes: [],
    coredns: { readyPods: 0, pods: [] },
    errors: [],
  };
  const attempt = async (what: string, fn: () => Promise<void>, into: string[] = ev.errors) => {
    try {
      await fn();
    } catch (error) {
      into.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  };

  let svc: k8s.V1Service | undefined;
  await attempt('Service', async () => {
    svc = await kube.core.readNamespacedService({ namespace, name: service });
    ev.found = true;
    ev.serviceSpec = svc.spec;
  });
  if (svc) {
    await attempt('pods', async () => {
      const { selected } = await podsSelectedBy(kube, svc!);
      ev.pods = selected.map((p) => ({
        name: p.metadata!.name!,
        container: p.spec!.containers[0].name,
        node: p.spec?.nodeName,
        ip: p.status?.podIP,
        ready: isPodReady(p),
        restarts: p.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0,
        summary: describePod(p),
      }));
      ev.definitionProblems = selected.length ? serviceDefinitionProblems(svc!, selected) : [];
      if (!ev.pods.some((p) => p.ready)) ev.selectorExplanation = await explainNoEndpoints(kube, svc!);
    });
    await attempt('Endpoints', async () => void (ev.endpoints = await endpointsOf(kube, namespace, service)));
    await attempt(
      'EndpointSlices',
      async () => void (ev.slices = await endpointSliceAddresses(kube, namespace, service)),
    );
  }
  await attempt('events', async () => {
    const events = await kube.core.listNamespacedEvent({ namespace });
    ev.events = events.items
      .filter((e) => e.type !== 'Normal')
      .slice(-15)
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`);
  });
  await attempt('CoreDNS', async () => {
    const pods = await kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    ev.coredns.pods = pods.items.map(describePod);
    ev.coredns.readyPods = pods.items.filter(isPodReady).length;
  });
  await attempt('resolv.conf', async () => {
    const client = (await kube.core.listNamespacedPod({ namespace, labelSelector: 'role=client' })).items.find(
      isPodReady,
    );
    if (!client) return;
    const text = (await execInPod(kube, { namespace, name: client.metadata!.name! }, ['cat', '/etc/resolv.conf']))
      .stdout;
    ev.resolvConf = { pod: client.metadata!.name!, conf: parseResolvConf(text) };
  });
  if (!nodeAccessSkipReason(cluster))
    ev.nodes = await Promise.all(cluster.nodes.map((node) => nodeEvidence(cluster, kube, node, svc, ev)));
  return ev;
}

async function nodeEvidence(
  cluster: Cluster,
  kube: Kube,
  node: NodeInfo,
  svc: k8s.V1Service | undefined,
  ev: Evidence,
): Promise<NodeEvidence> {
  const out: NodeEvidence = { node: node.name, errors: [] };
  const attempt = async (what: string, fn: () => Promise<void>) =>
    fn().catch((e: Error) => void out.errors.push(`${what}: ${e.message.split('\n')[0]}`));
  await attempt('kube-proxy', async () => void (out.kubeProxy = await kubeProxyStatus(cluster, node)));
  const port = svc?.spec?.ports?.[0];
  if (svc?.spec?.clusterIP && port) {
    const ref = {
      namespace: ev.namespace,
      name: ev.service,
      portName: port.name,
      protocol: port.protocol,
      clusterIP: svc.spec.clusterIP,
      port: port.port,
    };
    await attempt('rules', async () => void (out.programmed = await programmedDestinations(cluster, node, ref)));
    await attempt('conntrack', async () => {
      const r = await runOnNode(cluster, node, ['conntrack', '-L', '-d', svc!.spec!.clusterIP!], {
        allowFailure: true,
      });
      out.conntrack = r.stdout.split('\n').slice(0, 10).join('\n') || r.stderr.split('\n').at(-1);
    });
  }
  if (node === cluster.nodes[0]) {
    await attempt('DNS query', async () => {
      const answer = await nodeLookup(
        cluster,
        node,
        `kubernetes.default.svc.${cluster.capabilities.clusterDomain}`,
        cluster.capabilities.dnsIP,
      );
      ev.coredns.directQuery = `${answer.outcome}${answer.addrs ? ` ${answer.addrs.join(',')}` : ''}${answer.error ? ` (${answer.error})` : ''}`;
    });
  }
  await attempt('pod routes', async () => {
    const routes = (await runOnNode(cluster, node, ['ip', 'route', 'show'])).stdout;
    const otherCIDRs = [
      ...new Set(
        ev.pods
          .filter((p) => p.node && p.node !== node.name && p.ip)
          .map((p) => p.ip!.split('.').slice(0, 3).join('.')),
      ),
    ];
    out.missingPodRoutes = otherCIDRs
      .filter((prefix) => !routes.split('\n').some((r) => r.startsWith(`${prefix}.0/`)))
      .map((p) => `${p}.0/24`);
  });
  await attempt('hairpin', async () => {
    out.hairpin = [];
    for (const pod of ev.pods.filter((p) => p.node === node.name && p.ready)) {
      const peer = Number(
        (
          await execInPod(kube, { namespace: ev.namespace, name: pod.name, container: pod.container }, [
            'cat',
            '/sys/class/net/eth0/iflink',
          ])
        ).stdout,
      );
      const port = await podBridgePort(cluster, node, peer);
      if (port.bridge)
        out.hairpin.push({
          pod: pod.name,
          on: !!(port.hairpinMode || port.bridgePromiscuous),
          description: describeHairpin(port),
        });
    }
  });
  return out;
}
