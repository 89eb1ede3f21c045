// A UDP flow that keeps its source port, so one conntrack entry, while its Service's servers change
// under it (the servers: udp-servers.ts); and what the nodes' conntrack tables hold of it when it goes
// astray, the evidence that names a stale entry. Each scenario returns the problems it saw, [] when none.
import { randomInt } from 'node:crypto';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { waitFor } from '../kube/wait.js';
import type { NodeInfo } from '../cluster/provider.js';
import { nodeUdpFlow } from '../node/node-udp.js';
import { nodeAccessSkipReason, runOnNode } from '../node/run-on-node.js';
import { parseConntrack, type ConntrackEntry } from '../parse/conntrack.js';
import type { ClientPod, FlowResult } from './client-pod.js';
import { deleteServer, markReady, startUdpServer, waitForEndpoint, type UdpService } from './udp-servers.js';

/** Source ports of the flows of one run: one apart, so flows sent at once never share an entry. */
let nextPort = randomInt(20_000, 30_000);

/** Where a flow leaves from: a client pod, or a node itself (nodeUdpFlow), as node processes and hostNetwork pods send. */
export type FlowSender = Pick<ClientPod, 'udpFlow'>;

/** A node as a flow's sender. */
export function fromNode(cluster: Cluster, node: NodeInfo): FlowSender {
  return { udpFlow: (address, options) => nodeUdpFlow(cluster, node, address, options) };
}

export class UdpFlow {
  readonly localPort = nextPort++;
  last?: FlowResult;

  constructor(
    private readonly cluster: Cluster,
    readonly sender: FlowSender,
    readonly target: string,
  ) {}

  /** `count` datagrams, 100 ms apart, from the flow's source port. */
  async send(count: number): Promise<FlowResult> {
    this.last = await this.sender.udpFlow(this.target, { count, intervalMs: 100, localPort: this.localPort });
    return this.last;
  }

  /** Sends until the last answer is `pod`'s name (within the Service sync budget); false when it never was. */
  async reaches(pod: string): Promise<boolean> {
    return waitFor(
      `the flow from port ${this.localPort} to ${this.target} answered by ${pod}`,
      this.cluster.settings.timeouts.serviceSync,
      async () => {
        // One datagram a try: one sent to a dead pod costs a whole probe timeout.
        const flow = await this.send(1);
        return { done: flow.sequence.at(-1) === pod, seen: describeFlow(flow), value: true };
      },
    ).catch(() => false);
  }

  /** "from 10.244.0.5:23001 to 10.96.4.7:80: timeout → timeout; conntrack on n1: ... answered by 10.244.1.9:9376" */
  async story(): Promise<string> {
    return `from ${this.last?.local || `port ${this.localPort}`} to ${this.target}: ${describeFlow(this.last)}; ${await this.conntrack()}`;
  }

  /**
   * The flow's entries on every node, as conntrack -L shows them. A node that SNATs the flow on its way to
   * another node (flannel's --ip-masq does, for pod traffic to a node address) hands it on from the port its
   * reply tuple names: the other nodes' entries are looked up by that address and port too.
   */
  async entries(): Promise<{ node: string; entry: ConntrackEntry }[]> {
    const list = (src: { port: number; address?: string }) =>
      Promise.all(
        this.cluster.nodes.map(async (node) => {
          const listed = await runOnNode(
            this.cluster,
            node,
            [
              'conntrack',
              '-L',
              '-p',
              'udp',
              '--orig-port-src',
              String(src.port),
              ...(src.address ? ['--orig-src', src.address] : []),
            ],
            { allowFailure: true },
          );
          return parseConntrack(listed.stdout)
            .filter((entry) => entry.original.sport === src.port)
            .map((entry) => ({ node: node.name, entry }));
        }),
      ).then((found) => found.flat());
    const direct = await list({ port: this.localPort });
    const snat = direct.filter(({ entry }) => entry.reply.dst !== entry.original.src && entry.reply.dport);
    const handedOn = await Promise.all(
      snat.map(({ entry }) => list({ port: entry.reply.dport!, address: entry.reply.dst })),
    );
    return [...direct, ...handedOn.flat().filter((e) => !direct.some((d) => d.node === e.node))];
  }

  private async conntrack(): Promise<string> {
    const noAccess = nodeAccessSkipReason(this.cluster);
    if (noAccess) return `its conntrack entries were not read (${noAccess})`;
    const entries = await this.entries();
    if (!entries.length) return 'no node has a conntrack entry for it';
    return entries
      .map(({ node, entry }) => `conntrack on ${node} sends it to ${entry.reply.src}:${entry.reply.sport}`)
      .join('; ');
  }
}

export function describeFlow(flow: FlowResult | undefined): string {
  return flow ? flow.sequence.join(' → ') || 'nothing' : 'no answer';
}

export interface CycleOptions {
  /** Where the servers run. */
  node: string;
  /** Where server 2 runs instead, to cycle the flow's server across nodes. */
  secondNode?: string;
  /** A server of the Service on this node too, started first and kept (the flow must still reach the cycled ones). */
  alsoOn?: string;
}

/**
 * The flow starts while the Service has no endpoint; server 1 comes and the flow must reach it; server 2
 * (made with server 1, held unready until now) turns ready, server 1 is deleted, and the same flow must
 * reach server 2. Returns what went wrong, [] if nothing.
 */
export async function cycleUnderFlow(
  cluster: Cluster,
  namespace: string,
  service: UdpService,
  flow: UdpFlow,
  options: CycleOptions,
): Promise<string[]> {
  const start = (name: string, node: string, gated = false) =>
    startUdpServer(cluster, namespace, service.name, name, { node, gated });
  await flow.send(1);
  const [first, second] = await Promise.all([
    start(`${service.name}-1`, options.node),
    start(`${service.name}-2`, options.secondNode ?? options.node, true),
    options.alsoOn && start(`${service.name}-far`, options.alsoOn),
  ]);
  if (!(await flow.reaches(first.name)))
    return [`the flow started with no endpoint never reached ${first.name} once it was ready: ${await flow.story()}`];
  await markReady(cluster, namespace, service.name, second.name);
  await deleteServer(cluster, namespace, service.name, first);
  if (!(await flow.reaches(second.name)))
    return [
      `${first.name} (${first.ip}) was deleted, but the flow did not move to ${second.name} (${second.ip}): ${await flow.story()}`,
    ];
  return [];
}

/** The flow starts while the only server is listed but unready; once it turns ready the flow must reach it. */
export async function readyUnderFlow(
  cluster: Cluster,
  namespace: string,
  service: UdpService,
  flow: UdpFlow,
  node: string,
): Promise<string[]> {
  const name = `${service.name}-1`;
  await flow.send(1);
  await startUdpServer(cluster, namespace, service.name, name, { node, gated: true });
  await flow.send(1);
  await markReady(cluster, namespace, service.name, name);
  if (!(await flow.reaches(name)))
    return [`the flow started while ${name} was unready never reached it once ready: ${await flow.story()}`];
  return [];
}

/**
 * A NodePort whose targetPort moves from `from` to `to` (one pod serving both): the flow answered
 * on `from` must, once the EndpointSlices carry `to`, be answered on `to`, which only its conntrack
 * entry shows (both answer the pod's name). Needs node access.
 */
export async function retargetUnderFlow(
  cluster: Cluster,
  namespace: string,
  service: UdpService,
  flow: UdpFlow,
  options: { node: string; from: number; to: number },
): Promise<string[]> {
  const { from, to } = options;
  const pod = await startUdpServer(cluster, namespace, service.name, `${service.name}-1`, {
    node: options.node,
    ports: [from, to],
  });
  const answeredOn = async (port: number) =>
    (await flow.reaches(pod.name)) &&
    (await flow.entries()).some(({ entry }) => entry.reply.src === pod.ip && entry.reply.sport === port);
  // At every sync, kube-proxy deletes the UDP entries to a NodePort whose reply comes from no endpoint. The
  // client's node only forwards the flow to the server's node (flannel masquerades it to a random port), so
  // its entry, the one that leads to the server node's, goes whenever its kube-proxy syncs for any Service,
  // and the next datagram makes it again: the flow is read until one datagram and its entries agree.
  const answeredWithin = (port: number) =>
    waitFor(
      `the flow from port ${flow.localPort} answered on ${pod.name}:${port}`,
      cluster.settings.timeouts.serviceSync,
      async () => ({ done: await answeredOn(port), seen: await flow.story(), value: true }),
    ).catch(() => false);
  if (!(await answeredWithin(from)))
    return [`the flow never reached ${pod.name} on its target port ${from}: ${await flow.story()}`];
  await retarget(cluster, namespace, service.name, to);
  await waitForEndpoint(cluster, namespace, service.name, `${pod.name} listed on port ${to}`, (e) =>
    e.some((a) => a.podName === pod.name && a.port === to),
  );
  if (!(await answeredWithin(to)))
    return [
      `the Service's targetPort moved from ${from} to ${to}, but the flow still is not answered on ${to}: ${await flow.story()}`,
    ];
  return [];
}

async function retarget(cluster: Cluster, namespace: string, name: string, port: number): Promise<void> {
  const body = [{ op: 'replace', path: '/spec/ports/0/targetPort', value: port }];
  await cluster.kube.core.patchNamespacedService(
    { namespace, name, body },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}
