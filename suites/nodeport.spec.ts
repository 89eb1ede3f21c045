// suites/nodeport.spec.ts — beyond the guide: NodePort
// Proves: a NodePort Service answers on every node's address — from outside the cluster; from every node, a pod and
// one of its own backends, every backend answering each; its ClusterIP and NodePorts reach hostNetwork backends from a
// pod, a hostNetwork pod and every node over HTTP and UDP, carrying 2,000-byte messages; kube-proxy holds the port on
// every node (KUBE-NODEPORTS, or nft's service-nodeports map); with externalTrafficPolicy: Cluster the backend sees the
// receiving node's address as the source (SNAT), not the client's; in iptables mode it answers on 127.0.0.1 and
// kube-proxy's nfacct counter of accepted localhost NodePort packets grows. The API server refuses a NodePort another
// Service holds (until that one gives it up) and one outside its range.
// A failure usually means: kube-proxy's NodePort rules are missing on a node (or --nodeport-addresses leaves
// its address out) or lack an endpoint, or the masquerade for external traffic is gone.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiErrorLine } from '../helpers/cluster/attach.js';
import { because } from '../helpers/diagnose/guide.js';
import { nodeAddresses } from '../helpers/kube/nodes.js';
import { externalHttp, externalSkipReason } from '../helpers/node/external-client.js';
import { programmedFrontends } from '../helpers/node/proxy-rules.js';
import { nodeAccessSkipReason, skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type Tally } from '../helpers/workloads/client-pod.js';
import { deployHostnames, netexecArgs, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostOf, hostPort } from '../helpers/address.js';
import { runLabels } from '../helpers/workloads/labels.js';
import type { NodeInfo } from '../helpers/cluster/provider.js';
import { everyBackendProblems, type Destination } from '../helpers/workloads/every-backend.js';
import {
  deployHostNetworkBackends,
  hostNetworkNamespace,
  HOST_BACKEND_PORT,
  startHostNetworkClient,
  type HostNetworkBackends,
} from '../helpers/workloads/host-network.js';
import { dialFrom, echoLengths, LARGE_DATAGRAM, LARGE_REQUEST } from '../helpers/workloads/netexec-dial.js';
import { kubeProxyEndpoints } from '../helpers/node/kube-proxy.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { kubeProxyCounter } from '../helpers/workloads/kube-proxy-metric.js';
import { endpointVantage, nodeVantage, podVantage, type Protocol, type Vantage } from '../helpers/workloads/vantage.js';

const TRIES = 6;
const ECHO_TRIES = 3;
/** The hostNetwork backends' Service, and their port on every node: not one another spec's may hold there at once. */
const HOST_SERVICE = 'host-backends';
const HOST_PORT = HOST_BACKEND_PORT + 4;
/** A failed try's error with the 2,000-byte message it quotes left out. */
const shortError = (tally: Tally) =>
  (tally.sampleError ?? 'no error').replaceAll(LARGE_REQUEST, '<message>').replaceAll(LARGE_DATAGRAM, '<message>');
/** kube-proxy's iptables mode counts, in nfacct, the packets it accepts for NodePorts on 127.0.0.0/8. */
const LOCALHOST_NODEPORTS_METRIC = 'kubeproxy_iptables_localhost_nodeports_accepted_packets_total';
/** A port no NodePort range holds (the default is 30000-32767; a range that starts at 1 is unheard of). */
const OUT_OF_RANGE = 1;

/** The API server's answer to creating or changing a Service: 'ok', or its Status message in a line. */
async function refusal(attempt: () => Promise<unknown>): Promise<string> {
  try {
    await attempt();
    return 'ok';
  } catch (error) {
    return apiErrorLine(error instanceof Error ? error.message : String(error));
  }
}

describe('Beyond the guide: NodePort', () => {
  const cluster = useCluster();
  const ns = useNamespace('nodeport');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod, nodePort: number;
  /** hostNetwork backends on every node behind a NodePort Service of their own, and a client in the first node's network. */
  let host: HostNetworkBackends, hostClient: ClientPod;
  const names = async () => (await app.backendsNow()).map((p) => p.name);
  const nodePortOf = (node: NodeInfo, port = nodePort): Destination => ({
    what: `the NodePort of ${node.name}`,
    address: hostPort(node.internalIP, port),
  });
  /** The hostNetwork backends' Service over `protocol`: its ClusterIP and every node's NodePort. */
  const hostDestinations = (protocol: Protocol): Destination[] => {
    const port = host.service.spec!.ports!.find((p) => p.protocol === protocol)!;
    const clusterIP = { what: 'the ClusterIP', address: hostPort(host.clusterIP, port.port) };
    return [clusterIP, ...cluster.nodes.map((n) => nodePortOf(n, port.nodePort!))];
  };
  /** netexec's /dial request for a 2,000-byte datagram echoed by the hostNetwork backends at `udp` (their ClusterIP). */
  const largeDatagramTo = (udp: string) =>
    ({
      protocol: 'udp',
      host: host.clusterIP,
      port: Number(udp.slice(udp.lastIndexOf(':') + 1)),
      request: `echo ${LARGE_DATAGRAM}`,
    }) as const;
  /** A hostNetwork netexec answers with its node's name. */
  const hostBackends = () => host.pods.map((p) => ({ ...p, name: p.node }));
  const hostVantage = (): Vantage => ({
    ...podVantage(hostClient),
    where: `hostNetwork pod ${hostClient.name} on ${hostClient.node}`,
  });

  beforeAll(async () => {
    const hostNs = await hostNetworkNamespace(cluster, 'nodeport-host');
    const asNodePort = (s: k8s.V1Service) => void (s.spec!.type = 'NodePort');
    [app, client, hostClient] = await Promise.all([
      (async () => {
        // The hostNetwork backends are listed before hostnames exists: a node whose rules send hostnames to its
        // backends (awaited by deployHostnames) synced after that, so its rules for them are final too.
        host = await deployHostNetworkBackends(cluster, hostNs, HOST_SERVICE, {
          nodes: cluster.nodes.map((n) => n.name),
          port: HOST_PORT,
          udp: true,
          tweak: asNodePort,
        });
        return deployHostnames(cluster, ns, { args: netexecArgs(), tweak: { service: asNodePort } });
      })(),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
      startHostNetworkClient(cluster, hostNs, 'host-client', cluster.nodes[0].name),
    ]);
    nodePort = app.service.spec!.ports![0].nodePort!;
  });

  for (const node of cluster.nodes) {
    it(`answers on ${node.name}'s address from outside the cluster`, async ({ skip }) => {
      const reason = externalSkipReason(cluster);
      if (reason) skip(reason);
      const url = `http://${hostPort(node.internalIP, nodePort)}/hostname`;
      const tally = await externalHttp(cluster, url, TRIES);
      expect(
        tally.ok,
        because(
          'nodePort',
          `${url} from outside (${cluster.external!.address}): ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
        ),
      ).toBe(TRIES);
      const backends = await names();
      expect(
        Object.keys(tally.answers).every((a) => backends.includes(a)),
        because('nodePort', `answers from pods that are not backends: ${JSON.stringify(tally.answers)}`),
      ).toBe(true);
    });

    it(`answers on ${node.name}'s address from every node, from every backend pod`, async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const from = cluster.nodes.map((n) => nodeVantage(cluster, n));
      const problems = await everyBackendProblems(from, 'TCP', [nodePortOf(node)], await app.backendsNow());
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    });

    it(`answers on ${node.name}'s address from a pod, from every backend pod`, async () => {
      const problems = await everyBackendProblems(
        [podVantage(client)],
        'TCP',
        [nodePortOf(node)],
        await app.backendsNow(),
      );
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    });

    it(`kube-proxy holds the NodePort on ${node.name}`, async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const frontends = await programmedFrontends(cluster, node, {
        namespace: ns,
        name: app.name,
        portName: 'default',
        protocol: 'tcp',
      });
      if (!frontends) skip(`no NodePort rule parser for kube-proxy mode ${cluster.capabilities.proxyMode}`);
      const where = cluster.capabilities.proxyMode === 'nftables' ? 'the service-nodeports map' : 'KUBE-NODEPORTS';
      expect(
        frontends!.nodePorts.map((p) => p.port),
        because('nodePort', `${where} on ${node.name} for ${ns}/${app.name}`),
      ).toEqual([nodePort]);
      expect(
        frontends!.masqueradesExternal,
        because(
          'nodePort',
          `the external chain on ${node.name} must mark packets for SNAT (externalTrafficPolicy: Cluster)`,
        ),
      ).toBe(true);
    });

    it(`externalTrafficPolicy Cluster: the backend sees ${node.name}'s address as the source (SNAT)`, async ({
      skip,
    }) => {
      const reason = externalSkipReason(cluster);
      if (reason) skip(reason);
      const url = `http://${hostPort(node.internalIP, nodePort)}/clientip`;
      const [tally, addresses] = await Promise.all([externalHttp(cluster, url, TRIES), nodeAddresses(cluster.kube)]);
      const sources = Object.keys(tally.answers).map(hostOf);
      const mine = addresses.get(node.name) ?? [];
      expect(tally.ok, because('nodePort', `${url}: ${tally.ok}/${TRIES} answered (${tally.sampleError ?? ''})`)).toBe(
        TRIES,
      );
      expect(
        sources.filter((s) => !mine.includes(s)),
        because(
          'nodePort',
          `sources the backend saw: ${sources.join(', ')}; ${node.name}'s addresses: ${mine.join(', ')} (the client is ${cluster.external!.address}: no SNAT)`,
        ),
      ).toEqual([]);
    });
  }

  it.concurrent(
    "from one of its backends, its ClusterIP and every node's NodePort reach every backend pod (itself too)",
    async () => {
      const backends = await app.backendsNow();
      const clusterIP = { what: 'its ClusterIP', address: hostPort(app.clusterIP, app.port) };
      const problems = await everyBackendProblems(
        [endpointVantage(client, backends[0])],
        'TCP',
        [clusterIP, ...cluster.nodes.map((n) => nodePortOf(n))],
        backends,
      );
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    },
  );

  it.concurrent(
    "hostNetwork backends answer on their ClusterIP and every node's NodePort from a pod over HTTP, each of them",
    async () => {
      const problems = await everyBackendProblems([podVantage(client)], 'TCP', hostDestinations('TCP'), hostBackends());
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    },
  );

  // The pod shares its node with one of the backends: that one's reply must leave from the node address the
  // Service's DNAT chose (its UDP server listens there, as upstream's does), or conntrack cannot undo the DNAT.
  it.concurrent(
    "hostNetwork backends answer on their ClusterIP and every node's NodePort from a pod over UDP, each of them",
    async () => {
      const problems = await everyBackendProblems([podVantage(client)], 'UDP', hostDestinations('UDP'), hostBackends());
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    },
  );

  it.concurrent(
    'hostNetwork backends echo a 2,000-byte datagram sent from a pod whole through their ClusterIP',
    async () => {
      // The datagrams leave from a hostnames pod (a netexec in the pod network), through its /dial.
      const [from] = await app.backendsNow();
      const udp = hostDestinations('UDP')[0].address;
      const datagram = largeDatagramTo(udp);
      const echoed = await dialFrom(client, from.ip, datagram, ECHO_TRIES);
      expect(
        echoed.answers,
        because(
          'nodePort',
          `${LARGE_DATAGRAM.length + 5}-byte datagrams to the ClusterIP of hostNetwork backends ${udp}/UDP from pod ${from.name} on ${from.node}: ${echoLengths(echoed)} (${shortError(echoed)})`,
        ),
      ).toEqual({ [LARGE_DATAGRAM]: ECHO_TRIES });
    },
  );

  it.concurrent(
    "hostNetwork backends answer on their ClusterIP and every node's NodePort from a hostNetwork pod and from every node over HTTP and UDP, each of them",
    async () => {
      // Without node access the hostNetwork pod stands for its node, as upstream's test container does.
      const nodes = nodeAccessSkipReason(cluster) ? [] : cluster.nodes.map((n) => nodeVantage(cluster, n));
      const from = [hostVantage(), ...nodes];
      const problems = (
        await Promise.all(
          (['TCP', 'UDP'] as const).map((protocol) =>
            everyBackendProblems(from, protocol, hostDestinations(protocol), hostBackends()),
          ),
        )
      ).flat();
      expect(problems, because('nodePort', problems.join('\n'))).toEqual([]);
    },
  );

  it.concurrent(
    "hostNetwork backends echo a 2,000-byte HTTP request and a 2,000-byte datagram whole through their ClusterIP, sent from a node's network",
    async () => {
      const tcp = hostDestinations('TCP')[0].address;
      const http = await hostClient.http(`http://${tcp}/echo?msg=${LARGE_REQUEST}`, { count: ECHO_TRIES });
      // The datagrams leave from the last node's network, through its hostNetwork netexec's /dial.
      const from = host.pods.at(-1)!;
      const udp = hostDestinations('UDP')[0].address;
      const datagram = largeDatagramTo(udp);
      const echoed = await dialFrom(client, from.ip, datagram, ECHO_TRIES, HOST_PORT);
      expect(
        [http.answers, echoed.answers],
        because(
          'nodePort',
          `to the ClusterIP of hostNetwork backends: GET /echo?msg=<${LARGE_REQUEST.length} bytes> ${tcp} from hostNetwork pod ${hostClient.name} on ${hostClient.node}: ${echoLengths(http)} (${shortError(http)}); ${LARGE_DATAGRAM.length + 5}-byte datagrams to ${udp}/UDP from node ${from.node}'s network: ${echoLengths(echoed)} (${shortError(echoed)})`,
        ),
      ).toEqual([{ [LARGE_REQUEST]: ECHO_TRIES }, { [LARGE_DATAGRAM]: ECHO_TRIES }]);
    },
  );

  it("answers on 127.0.0.1 from a hostNetwork pod, and kube-proxy's nfacct counter of accepted localhost NodePort packets grows", async ({
    skip,
  }) => {
    const mode = cluster.capabilities.proxyMode;
    if (mode !== 'iptables' && mode !== 'unknown')
      skip(
        `kube-proxy's ${mode} mode serves no NodePort on localhost (only iptables mode does, with route_localnet), so it keeps no such counter`,
      );
    const routeLocalnet = (await hostClient.readFile('/proc/sys/net/ipv4/conf/all/route_localnet')).trim();
    if (routeLocalnet !== '1')
      skip(
        `route_localnet is ${routeLocalnet} on ${hostClient.node}: kube-proxy serves no NodePort on localhost there`,
      );
    const node = cluster.nodes.find((n) => n.name === hostClient.node)!;
    const metrics = kubeProxyEndpoints(node).metrics;
    const before = await kubeProxyCounter(cluster, hostClient, metrics, LOCALHOST_NODEPORTS_METRIC);
    expect(
      before.value,
      because(
        'nodePort',
        `kube-proxy on ${node.name} before: ${before.detail} (no nfacct in the kernel, or kube-proxy found none)`,
      ),
    ).toBeDefined();
    const url = `http://${hostPort('127.0.0.1', nodePort)}/hostname`;
    const tally = await hostClient.http(url, { count: TRIES });
    expect(
      tally.ok,
      because(
        'nodePort',
        `${url} from hostNetwork pod ${hostClient.name} on ${node.name}: ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
      ),
    ).toBe(TRIES);
    const after = await probeUntil(
      `${LOCALHOST_NODEPORTS_METRIC} on ${node.name} above ${before.value}`,
      cluster.settings.timeouts.serviceSync,
      () => kubeProxyCounter(cluster, hostClient, metrics, LOCALHOST_NODEPORTS_METRIC),
      (reading) => (reading.value ?? 0) > before.value!,
      (reading) => reading.detail,
    );
    expect(
      after.value,
      because(
        'nodePort',
        `kube-proxy on ${node.name} after ${TRIES} connections to ${url}: ${after.detail}, was ${before.value}`,
      ),
    ).toBeGreaterThan(before.value!);
  });

  /** A NodePort Service over the same pods, asking for `port` (or for any, when none is given). */
  const withNodePort = (name: string, port?: number): k8s.V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: runLabels(cluster.runId) },
    spec: {
      type: 'NodePort',
      selector: { app: app.name },
      ports: [{ name: 'http', port: 80, nodePort: port, protocol: 'TCP' }],
    },
  });

  it('refuses a second Service the NodePort another holds, and grants it once that one is deleted', async () => {
    // The first one takes a port the API server chooses; the second asks for exactly that one.
    const first = await cluster.kube.core.createNamespacedService({ namespace: ns, body: withNodePort('collider') });
    const held = first.spec!.ports![0].nodePort!;
    const second = () =>
      cluster.kube.core.createNamespacedService({ namespace: ns, body: withNodePort('collides', held) });
    const whileHeld = await refusal(second);
    await cluster.kube.core.deleteNamespacedService({ namespace: ns, name: 'collider' });
    const afterwards = await refusal(second);
    expect(
      { whileHeld: /already allocated/.test(whileHeld), afterwards },
      because('nodePort', `NodePort ${held} asked for while Service collider held it: "${whileHeld}"`),
    ).toEqual({ whileHeld: true, afterwards: 'ok' });
  });

  it(`refuses a NodePort outside the range (${OUT_OF_RANGE}), on create and on update`, async () => {
    const created = await refusal(() =>
      cluster.kube.core.createNamespacedService({ namespace: ns, body: withNodePort('out-of-range', OUT_OF_RANGE) }),
    );
    const updated = await refusal(async () => {
      const service = await cluster.kube.core.readNamespacedService({ namespace: ns, name: app.name });
      service.spec!.ports![0].nodePort = OUT_OF_RANGE;
      await cluster.kube.core.replaceNamespacedService({ namespace: ns, name: app.name, body: service });
    });
    const stillOwn = (await cluster.kube.core.readNamespacedService({ namespace: ns, name: app.name })).spec!.ports![0]
      .nodePort;
    expect(
      { created: /not in the valid range/.test(created), updated: /not in the valid range/.test(updated), stillOwn },
      because('nodePort', `NodePort ${OUT_OF_RANGE}: on create "${created}"; on update "${updated}"`),
    ).toEqual({ created: true, updated: true, stillOwn: nodePort });
  });
});
