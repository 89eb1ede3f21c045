// Where a check asks a Service from, the client pod, a node or one of the Service's own netexec
// backends, over TCP (GET /hostname, a new connection each) or UDP (the datagram "hostname", a new
// socket each): one call for each, so a check of several ports and protocols says once what it
// expects of each. netexec answers both.
import { hostOf } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeInfo } from '../cluster/provider.js';
import { probeUntil } from '../kube/probe-until.js';
import { nodeHttp } from '../node/node-probe.js';
import { nodeUdp } from '../node/node-udp.js';
import type { BackendPod } from './backends.js';
import type { ClientPod, Tally } from './client-pod.js';
import { dialFrom } from './netexec-dial.js';
import { describeDistribution, roundRobinWith } from './round-robin.js';

export type Protocol = 'TCP' | 'UDP';

export interface Vantage {
  /** "pod client on node-1", "node node-2": the words a failure names it by. */
  where: string;
  /** The node the requests leave from: a failure tells same-node backends from cross-node ones. */
  node: string;
  /** `count` tries to `address` (host:port) over `protocol`, each tallied by its answer. */
  ask(protocol: Protocol, address: string, count: number): Promise<Tally>;
}

const urlOf = (address: string) => `http://${address}/hostname`;

export function podVantage(client: ClientPod): Vantage {
  return {
    where: `pod ${client.name} on ${client.node}`,
    node: client.node,
    ask: (protocol, address, count) =>
      protocol === 'TCP'
        ? client.http(urlOf(address), { count, concurrency: Math.min(count, 16) })
        : client.udp(address, { count }),
  };
}

export function nodeVantage(cluster: Cluster, node: NodeInfo): Vantage {
  return {
    where: `node ${node.name}`,
    node: node.name,
    ask: (protocol, address, count) =>
      protocol === 'TCP' ? nodeHttp(cluster, node, urlOf(address), count) : nodeUdp(cluster, node, address, count),
  };
}

/** From one of a Service's netexec backends: its /dial, asked by `client`, sends each try (upstream's "from an endpoint"). */
export function endpointVantage(client: ClientPod, endpoint: BackendPod): Vantage {
  return {
    where: `backend ${endpoint.name} on ${endpoint.node}`,
    node: endpoint.node,
    ask: (protocol, address, count) =>
      dialFrom(
        client,
        endpoint.ip,
        {
          protocol: protocol === 'TCP' ? 'http' : 'udp',
          host: hostOf(address),
          port: Number(address.slice(address.lastIndexOf(':') + 1)),
          request: 'hostname',
        },
        count,
      ),
  };
}

/**
 * Round-robins over `address` until every one of `expected` (pod names) has answered and nothing
 * else has, or the budget ends: '' then, else a line naming the protocol, address, vantage and
 * what answered.
 */
export async function unanswered(
  from: Vantage,
  protocol: Protocol,
  address: string,
  expected: string[],
  budgetMs: number,
): Promise<string> {
  const what = `${protocol} ${address} from ${from.where}`;
  const rr = await probeUntil(
    `every one of ${expected.join(', ')} answering ${what}`,
    budgetMs,
    () => roundRobinWith(address, expected, (count) => from.ask(protocol, address, count)),
    (r) => !r.missing.length && !r.unexpected.length,
    describeDistribution,
  );
  return rr.missing.length || rr.unexpected.length
    ? `${what}: ${describeDistribution(rr)}, expected ${expected.join(', ')}`
    : '';
}

/** Asks `address` until nothing answers, or the budget ends: '' then, else a line naming what still answered. */
export async function stillAnswering(
  from: Vantage,
  protocol: Protocol,
  address: string,
  budgetMs: number,
): Promise<string> {
  const what = `${protocol} ${address} from ${from.where}`;
  const tally = await probeUntil(
    `${what} silent`,
    budgetMs,
    () => from.ask(protocol, address, 3),
    (t) => t.ok === 0,
    (t) => `${t.ok}/${t.count} answered ${JSON.stringify(t.answers)}`,
  );
  return tally.ok ? `${what} still answered ${tally.ok}/${tally.count} ${JSON.stringify(tally.answers)}` : '';
}
