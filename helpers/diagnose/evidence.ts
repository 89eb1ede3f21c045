// What the guide would look at for one Service, gathered in one pass, layer by layer: the
// control plane's work (control-plane.ts), the Service, its pods, Endpoints and
// EndpointSlices, events, kube-proxy and the Service's rules on every node, each node's own
// network settings (node-layer.ts), the data path from every node (path-matrix.ts), CoreDNS,
// a pod's resolv.conf. Each piece is collected on its own: one that cannot be read is
// recorded as such and the rest goes on.
import { setTimeout as sleep } from 'node:timers/promises';
import type * as k8s from '@kubernetes/client-node';
import { familyOf } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import { ZONE_LABEL, type NodeInfo } from '../cluster/provider.js';
import { Kube } from '../kube/client.js';
import { execInPod } from '../kube/exec.js';
import { describePod, isPodReady } from '../kube/pods.js';
import {
  endpointsOf,
  endpointSlicesOf,
  sliceAddresses,
  podsSelectedBy,
  type EndpointAddress,
} from '../kube/services.js';
import { describeHairpin, podBridgePort } from '../node/bridge-port.js';
import { kubeProxyStatus, type KubeProxyStatus } from '../node/kube-proxy.js';
import { programmedDestinations } from '../node/proxy-rules.js';
import { nodeAccessSkipReason, runOnNode } from '../node/run-on-node.js';
import { parseResolvConf, type ResolvConf } from '../parse/resolv-conf.js';
import { serviceDefinitionProblems, targetContainerPort } from './service-definition.js';
import { explainNoEndpoints } from './endpoints.js';
import { collectControlPlane, type ControlPlaneEvidence } from './control-plane.js';
import { collectNodeLayer, type NodeLayer, type NodeRanges } from './node-layer.js';
import { flannelLease } from '../parse/vxlan.js';
import { collectPathMatrix, type PathMatrix } from './path-matrix.js';
import {
  expectedEndpoints,
  readServiceRules,
  ruleProblems,
  staleUdpFlows,
  type RuleProblem,
  type ServiceRules,
} from './proxy-spec.js';
import { parseConntrack } from '../parse/conntrack.js';
import { kubeProxyProcesses, lastProxySync, type ProxyProcess } from './kube-proxy-process.js';

export interface NodeEvidence {
  node: string;
  kubeProxy?: KubeProxyStatus;
  /** When its healthz does not answer: the kube-proxy processes in the node's network namespace, and its last sync (Unix s). */
  proxyProcesses?: ProxyProcess[];
  lastSync?: number;
  /** DNAT targets kube-proxy programmed for the Service's first port. */
  programmed?: string[];
  /** The Service port's rules as its spec needs them (affinity, traffic policies), iptables and nftables modes. */
  rules?: ServiceRules;
  /** Where those rules do not implement the Service's spec. */
  ruleProblems?: RuleProblem[];
  conntrack?: string;
  /** UDP conntrack entries to the ClusterIP that still send to an address that is no ready endpoint. */
  staleUdp?: string[];
  /** The node's own network under kube-proxy and the CNI. */
  layer?: NodeLayer;
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
    /** The port its container serves the Service on (what the guide dials at podIP). */
    port?: number;
    /** Being deleted: it may stop answering any moment, so the path matrix leaves it out. */
    terminating?: boolean;
    ready: boolean;
    restarts: number;
    summary: string;
  }[];
  selectorExplanation?: string;
  definitionProblems: string[];
  endpoints: EndpointAddress[];
  slices: EndpointAddress[];
  /** Each node's topology.kubernetes.io/zone, where it has one: topology hints are read against it. */
  nodeZones?: Record<string, string>;
  /** How many EndpointSlice objects the Service has (a slice may list no endpoint). */
  sliceObjects?: number;
  events: string[];
  nodes: NodeEvidence[];
  coredns: {
    readyPods: number;
    pods: string[];
    ready: { pod: string; ip: string; node: string }[];
    /** The Corefile of its ConfigMap (kube-system/coredns), when it could be read. */
    corefile?: string;
  };
  resolvConf?: { pod: string; conf: ResolvConf };
  controlPlane?: ControlPlaneEvidence;
  /** The data path from every node, when the probes could be made. */
  path?: PathMatrix;
  errors: string[];
}

export interface EvidenceOptions {
  /** Where the path matrix's probe pods go: the spec's namespace, or diagnose's throwaway one. Without it, no matrix. */
  probeNamespace?: string;
  /** The messages of the spec's setup failures: a refusal in them names its admission plugin or missing ServiceAccount. */
  setupErrors?: string[];
}

export async function collectEvidence(
  cluster: Cluster,
  namespace: string,
  service: string,
  options: EvidenceOptions = {},
): Promise<Evidence> {
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
    coredns: { readyPods: 0, pods: [], ready: [] },
    errors: [],
  };
  const attempt = async (what: string, fn: () => Promise<void>, into: string[] = ev.errors) => {
    try {
      await fn();
    } catch (error) {
      into.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  };

  await attempt(
    'control plane',
    async () => void (ev.controlPlane = await collectControlPlane(kube, namespace, options.setupErrors ?? [])),
  );
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
        port: servingPort(svc!, p),
        terminating: !!p.metadata?.deletionTimestamp,
        ready: isPodReady(p),
        restarts: p.status?.containerStatuses?.reduce((n, c) => n + c.restartCount, 0) ?? 0,
        summary: describePod(p),
      }));
      ev.definitionProblems = selected.length ? serviceDefinitionProblems(svc!, selected) : [];
      if (!ev.pods.some((p) => p.ready)) ev.selectorExplanation = await explainNoEndpoints(kube, svc!);
    });
    await attempt('Endpoints', async () => void (ev.endpoints = await endpointsOf(kube, namespace, service)));
    await attempt('EndpointSlices', async () => {
      const slices = await endpointSlicesOf(kube, namespace, service);
      ev.slices = sliceAddresses(slices);
      ev.sliceObjects = slices.length;
    });
    if (ev.slices.some((e) => e.zoneHints || e.nodeHints))
      await attempt('node zones', async () => {
        const { items } = await kube.core.listNode();
        ev.nodeZones = Object.fromEntries(
          items.flatMap((n) =>
            n.metadata?.labels?.[ZONE_LABEL] ? [[n.metadata.name!, n.metadata.labels[ZONE_LABEL]]] : [],
          ),
        );
      });
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
    ev.coredns.ready = pods.items
      .filter((p) => isPodReady(p) && p.status?.podIP && p.spec?.nodeName)
      .map((p) => ({ pod: p.metadata!.name!, ip: p.status!.podIP!, node: p.spec!.nodeName! }));
  });
  await attempt('CoreDNS Corefile', async () => {
    const config = await kube.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
    ev.coredns.corefile = config.data?.Corefile;
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
  const ranges = await nodeRanges(kube, ev, svc, cluster.capabilities.dnsIP).catch((e: Error) => {
    ev.errors.push(`node pod ranges: ${e.message.split('\n')[0]}`);
    return undefined;
  });
  const paths = options.probeNamespace
    ? collectPathMatrix(cluster, options.probeNamespace, pathTargets(ev, svc, cluster))
        .then((m) => void (ev.path = m))
        .catch((e: Error) => void ev.errors.push(`path matrix: ${e.message.split('\n')[0]}`))
    : Promise.resolve();
  if (!nodeAccessSkipReason(cluster))
    ev.nodes = await Promise.all(cluster.nodes.map((node) => nodeEvidence(cluster, kube, node, svc, ev, ranges)));
  await paths;
  return ev;
}

/** The port a selected pod serves the Service on: the targetPort it declares (by number or name), else its first TCP port. */
function servingPort(svc: k8s.V1Service, pod: k8s.V1Pod): number | undefined {
  const port = svc.spec?.ports?.[0];
  if (!port) return undefined;
  const tcp = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => (p.protocol ?? 'TCP') === 'TCP');
  const target = port.targetPort ?? port.port;
  return (
    targetContainerPort(port, pod)?.containerPort ??
    tcp?.containerPort ??
    (typeof target === 'number' ? target : undefined)
  );
}

function pathTargets(ev: Evidence, svc: k8s.V1Service | undefined, cluster: Cluster) {
  const port = svc?.spec?.ports?.[0];
  const tcp = (port?.protocol ?? 'TCP') === 'TCP';
  return {
    backends: ev.pods
      .filter((p) => p.ready && !p.terminating && p.ip && p.node && p.port)
      .map((p) => ({ pod: p.name, ip: p.ip!, node: p.node!, port: p.port! })),
    clusterIP:
      svc?.spec?.clusterIP && svc.spec.clusterIP !== 'None' && port && tcp
        ? { ip: svc.spec.clusterIP, port: port.port }
        : undefined,
    coredns: ev.coredns.ready,
    dns: {
      serviceIP: cluster.capabilities.dnsIP,
      name: `kubernetes.default.svc.${cluster.capabilities.clusterDomain}`,
    },
  };
}

/** Each node's pod ranges (its Node object's podCIDRs; else the /24s its pods' IPs are in) and the Service IPs of interest. */
async function nodeRanges(
  kube: Kube,
  ev: Evidence,
  svc: k8s.V1Service | undefined,
  dnsIP: string,
): Promise<NodeRanges> {
  const nodes = await kube.core.listNode();
  const podCIDRs = new Map<string, string[]>();
  for (const node of nodes.items) {
    const name = node.metadata!.name!;
    const declared = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : []);
    const seen = [...ev.pods, ...ev.coredns.ready]
      .filter((p) => p.node === name && p.ip && !p.ip.includes(':'))
      .map((p) => `${p.ip!.split('.').slice(0, 3).join('.')}.0/24`);
    podCIDRs.set(name, declared.length ? declared : [...new Set(seen)]);
  }
  const clusterIP = svc?.spec?.clusterIP;
  const leases = nodes.items.flatMap((n) => flannelLease(n) ?? []);
  return { podCIDRs, serviceIPs: [dnsIP, ...(clusterIP && clusterIP !== 'None' ? [clusterIP] : [])], leases };
}

/** Ready endpoints a node's rules do not send to, and rule targets that are no ready endpoint (only its own with internalTrafficPolicy Local). */
export function rulesMismatch(ev: Evidence, node: NodeEvidence): { missing: string[]; stale: string[] } {
  if (!node.programmed) return { missing: [], stale: [] };
  // The rules read are those of the ClusterIP's family: a dual-stack Service's other family has its own.
  const clusterIP = ev.serviceSpec?.clusterIP;
  const family = clusterIP && clusterIP !== 'None' ? familyOf(clusterIP) : undefined;
  const slices = ev.slices.filter((e) => !family || familyOf(e.ip) === family);
  const ready = expectedEndpoints(ev.serviceSpec, node.node, slices, ev.nodeZones?.[node.node]);
  return {
    missing: ready.filter((a) => !node.programmed!.includes(a)),
    stale: node.programmed.filter((a) => !ready.includes(a)),
  };
}

/**
 * kube-proxy writes a change at most once per its minSyncPeriod (1 s by default), and the write
 * itself takes a moment: rules that differ from the endpoints are read again after this long.
 */
const RULES_SETTLE_MS = 2_000;

async function nodeEvidence(
  cluster: Cluster,
  kube: Kube,
  node: NodeInfo,
  svc: k8s.V1Service | undefined,
  ev: Evidence,
  ranges: NodeRanges | undefined,
): Promise<NodeEvidence> {
  const out: NodeEvidence = { node: node.name, errors: [] };
  const attempt = async (what: string, fn: () => Promise<void>) =>
    fn().catch((e: Error) => void out.errors.push(`${what}: ${e.message.split('\n')[0]}`));
  await attempt('kube-proxy', async () => void (out.kubeProxy = await kubeProxyStatus(cluster, node)));
  if (out.kubeProxy && !out.kubeProxy.running) {
    await attempt(
      'kube-proxy process',
      async () => void (out.proxyProcesses = await kubeProxyProcesses(cluster, node)),
    );
    await attempt('kube-proxy last sync', async () => void (out.lastSync = await lastProxySync(cluster, node)));
  }
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
    await attempt('rules', async () => {
      out.programmed = await programmedDestinations(cluster, node, ref);
      // Endpoints that changed a moment ago may not be written yet: read a running kube-proxy's
      // rules once more after its sync window before they count against it.
      const { missing, stale } = rulesMismatch(ev, out);
      if (out.kubeProxy?.running && (missing.length || stale.length)) {
        await sleep(RULES_SETTLE_MS);
        out.programmed = await programmedDestinations(cluster, node, ref);
      }
    });
    await attempt('rules against the spec', async () => {
      const read = async () => {
        out.rules = await readServiceRules(cluster, node, ref);
        out.ruleProblems =
          out.rules && ruleProblems(`${ev.namespace}/${ev.service}`, svc!.spec!, node.name, out.rules, ev.slices);
      };
      await read();
      if (out.kubeProxy?.running && out.ruleProblems?.length) {
        await sleep(RULES_SETTLE_MS);
        await read();
      }
    });
    await attempt('conntrack', async () => {
      // The ClusterIP's entries, and a UDP NodePort's (their destination is a node's address, not the ClusterIP).
      const nodePort = port.protocol === 'UDP' ? port.nodePort : undefined;
      const list = async () => {
        const vip = await runOnNode(cluster, node, ['conntrack', '-L', '-d', svc!.spec!.clusterIP!], {
          allowFailure: true,
        });
        if (!nodePort) return vip;
        const np = await runOnNode(
          cluster,
          node,
          ['conntrack', '-L', '-p', 'udp', '--orig-port-dst', String(nodePort)],
          {
            allowFailure: true,
          },
        );
        return { stdout: `${vip.stdout}\n${np.stdout}`.trim(), stderr: vip.stderr };
      };
      const frontends = [
        { address: svc!.spec!.clusterIP!, port: port.port },
        ...(nodePort ? [{ address: node.internalIP, port: nodePort }] : []),
      ];
      const stale = (text: string) =>
        (port.protocol ?? 'TCP') === 'UDP' ? staleUdpFlows(parseConntrack(text), frontends, ev.slices) : [];
      let r = await list();
      // An entry kube-proxy is about to clear counts only if it is still there after its sync window.
      if (stale(r.stdout).length && out.kubeProxy?.running) {
        await sleep(RULES_SETTLE_MS);
        r = await list();
      }
      out.staleUdp = stale(r.stdout).map(
        (e) =>
          `${e.original.src}:${e.original.sport} → ${e.original.dst}:${e.original.dport} answered by ${e.reply.src}:${e.reply.sport}`,
      );
      out.conntrack = r.stdout.split('\n').slice(0, 10).join('\n') || r.stderr.split('\n').at(-1);
    });
  }
  if (ranges)
    await attempt('node network', async () => void (out.layer = await collectNodeLayer(cluster, node, ranges)));
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
