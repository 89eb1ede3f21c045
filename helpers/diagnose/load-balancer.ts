// The LoadBalancer section and its diagnosis, read layer by layer from the bottom: was an address
// assigned (else the implementation's pods and the Service's events say why), is it announced
// (a node answers ARP/NDP for it on the nodes' segment, asked from the outside client; which
// nodes run a ready speaker), is it programmed (kube-proxy's rule for the address on the
// announcing node), and for externalTrafficPolicy Local, does that node's health check count a
// local endpoint. The first layer that fails is the cause.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { METALLB_NAMESPACE } from '../cluster/metallb.js';
import { isPodReady } from '../kube/pods.js';
import { externalHttp, externalNeighbour, externalSkipReason } from '../node/external-client.js';
import { programmedFrontends } from '../node/proxy-rules.js';
import { nodeAccessSkipReason, nodeLinkAddress } from '../node/run-on-node.js';
import { hostPort } from '../address.js';
import { section } from './sections.js';

/** The line that carries the cause, which the verdict returns. */
const CAUSE = 'cause: ';

export const loadBalancerSection = section('Beyond the guide: LoadBalancer', {
  next: "layer by layer: no EXTERNAL-IP → the implementation's pods and the Service's events (MetalLB: kubectl -n metallb-system get pods; its IPAddressPool); an address nobody answers ARP for → the speaker on each node (kubectl -n metallb-system get pods -l component=speaker -o wide, its log); announced but not answering → kube-proxy's '<svc> loadbalancer IP' rule (nft: service-ips) on the announcing node; externalTrafficPolicy Local → that node's healthCheckNodePort",
  evidence: loadBalancerEvidence,
  verdict: (_evidence, lines) => lines.find((l) => l.startsWith(CAUSE))?.slice(CAUSE.length),
});

/** One line per layer for a LoadBalancer Service, the first failing layer's as `cause: …`. */
export async function loadBalancerEvidence(
  cluster: Cluster,
  ref: { namespace: string; name: string },
): Promise<string[]> {
  const service = await cluster.kube.core.readNamespacedService(ref).catch(() => undefined);
  if (service?.spec?.type !== 'LoadBalancer') return [];
  const id = `${ref.namespace}/${ref.name}`;
  const lines: string[] = [];
  const implementation = await implementationPods(cluster);
  lines.push(`implementation pods (${METALLB_NAMESPACE}): ${implementation.map(describe).join(', ') || 'none'}`);
  const events = await cluster.kube.core.listNamespacedEvent({
    namespace: ref.namespace,
    fieldSelector: `involvedObject.kind=Service,involvedObject.name=${ref.name}`,
  });
  const said = events.items.map((e) => `${e.reason}: ${e.message}`);
  lines.push(`events of ${id}: ${said.join('; ') || 'none'}`);
  const ip = service.status?.loadBalancer?.ingress?.[0]?.ip;
  if (!ip) {
    const controller = implementation.filter((p) => p.metadata?.labels?.component === 'controller');
    const why = said.filter((s) => /fail|error|no available/i.test(s));
    const pods = controller.length
      ? `its controller: ${controller.map(describe).join(', ')}`
      : 'no LoadBalancer controller pod runs';
    lines.push(
      `${CAUSE}${id} has no ingress address: ${why.join('; ') || 'the implementation said nothing about it'}; ${pods}`,
    );
    return lines;
  }
  const speakers = implementation.filter((p) => p.metadata?.labels?.component === 'speaker');
  const speaking = cluster.nodes.map((n) => {
    const pod = speakers.find((p) => p.spec?.nodeName === n.name);
    return `${n.name}: ${pod ? describe(pod) : 'no speaker'}`;
  });
  lines.push(`speakers: ${speaking.join('; ')}`);
  const noOutside = externalSkipReason(cluster);
  const noAccess = nodeAccessSkipReason(cluster);
  if (noOutside || noAccess) {
    lines.push(`the announcement was not asked: ${noOutside ?? noAccess}`);
    return lines;
  }
  const port = service.spec!.ports![0];
  const neighbour = await externalNeighbour(cluster, ip, port.port);
  const macs = await Promise.all(cluster.nodes.map(async (n) => ({ node: n, mac: await nodeLinkAddress(cluster, n) })));
  const announcer = macs.find((m) => neighbour.lladdr && m.mac === neighbour.lladdr)?.node;
  lines.push(
    `ARP/NDP for ${ip} from the outside client: ${neighbour.lladdr ? `answered by ${neighbour.lladdr} (${announcer?.name ?? 'no node'})` : `no answer (${neighbour.state.join(',') || 'no entry'})`}`,
  );
  if (!announcer) {
    lines.push(
      `${CAUSE}${id} has the address ${ip}, but no node announces it: nobody answers ARP/NDP for it on the nodes' segment (speakers: ${speaking.join('; ')})`,
    );
    return lines;
  }
  const frontends = await programmedFrontends(cluster, announcer, {
    namespace: ref.namespace,
    name: ref.name,
    portName: port.name ?? '',
    protocol: (port.protocol ?? 'TCP').toLowerCase(),
  });
  const rules = frontends?.loadBalancerIPs.map((f) => hostPort(f.ip, f.port ?? '?')) ?? [];
  lines.push(
    `kube-proxy's rules for the address on ${announcer.name}: ${frontends ? rules.join(', ') || 'none' : 'not read (no parser for this mode)'}`,
  );
  if (frontends && !rules.includes(hostPort(ip, port.port))) {
    lines.push(
      `${CAUSE}${announcer.name} announces ${ip} for ${id}, but kube-proxy there has no rule for ${hostPort(ip, port.port)}: the address is not programmed`,
    );
    return lines;
  }
  const health = service.spec?.healthCheckNodePort;
  if (service.spec?.externalTrafficPolicy === 'Local' && health) {
    const tally = await externalHttp(cluster, `http://${hostPort(announcer.internalIP, health)}/`);
    const said = tally.ok ? Object.keys(tally.answers)[0] : (tally.sampleError ?? 'no answer');
    lines.push(`health check of ${announcer.name} (port ${health}): ${said}`);
    if (!tally.ok)
      lines.push(
        `${CAUSE}${announcer.name} announces ${ip} for ${id} (externalTrafficPolicy Local), but its health check says it has no local endpoint: ${said}`,
      );
  }
  return lines;
}

async function implementationPods(cluster: Cluster): Promise<k8s.V1Pod[]> {
  const listed = await cluster.kube.core.listNamespacedPod({ namespace: METALLB_NAMESPACE }).catch(() => undefined);
  return listed?.items ?? [];
}

function describe(pod: k8s.V1Pod): string {
  return `${pod.metadata?.name} ${pod.status?.phase}${isPodReady(pod) ? ' ready' : ' not ready'} on ${pod.spec?.nodeName ?? 'no node'}`;
}
