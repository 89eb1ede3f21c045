// suites/ip-families.spec.ts — beyond the guide: IPv6 and dual-stack
// Proves: a Service gets the families it asks for (none: one of the primary family, from the primary ServiceCIDR;
// SingleStack IPv4 or IPv6; RequireDualStack in either order), its ClusterIPs in that order and EndpointSlices of each,
// and its IPv6 ClusterIP reaches every backend; on a dual-stack cluster the second family's ClusterIP and NodePorts
// reach every backend over HTTP and UDP from a pod, every node and a backend, hold ClientIP affinity, carry 2,000-byte
// messages, reach hostNetwork backends and follow a deleted backend. What needs a family the cluster lacks skips.
// A failure usually means: kube-proxy does not program that family (ip6tables, nft table ip6 kube-proxy) or its
// NodePorts, the CNI gives pods no address of it, or the API server's ServiceCIDRs lack it.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { familyOf, hostPort } from '../helpers/address.js';
import {
  dualStackSkipReason,
  familiesSkipReason,
  ipv6SkipReason,
  secondaryFamily,
  type IpFamily,
} from '../helpers/cluster/families.js';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { internalIPsOfFamily } from '../helpers/kube/nodes.js';
import { WaitTimeoutError } from '../helpers/kube/wait.js';
import { nodeAccessSkipReason, skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { parseAddressRange, rangeContains } from '../helpers/parse/cidr.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { describeLook, LOOK_REQUESTS, stickyBackend } from '../helpers/workloads/affinity.js';
import { answered } from '../helpers/workloads/answered.js';
import type { BackendPod } from '../helpers/workloads/backends.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { clusterIPOfFamily, waitForFamilyProgrammed } from '../helpers/workloads/family-programmed.js';
import {
  addService,
  createService,
  declareUdpPort,
  deployHostnames,
  netexecTcpAndUdpArgs,
  type ExtraService,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import {
  deployHostNetworkBackends,
  hostNetworkNamespace,
  HOST_BACKEND_PORT,
  type HostNetworkBackends,
} from '../helpers/workloads/host-network.js';
import { endpointVantage, nodeVantage, podVantage, type Protocol } from '../helpers/workloads/vantage.js';
import { everyBackendProblems, type Destination } from '../helpers/workloads/every-backend.js';
import { dialFrom, echoLengths, LARGE_DATAGRAM, LARGE_REQUEST } from '../helpers/workloads/netexec-dial.js';
import { describeDistribution, roundRobin, roundRobinWith } from '../helpers/workloads/round-robin.js';
import { deleteBackend } from '../helpers/workloads/scale.js';
import { startServerPod, waitForServerPod } from '../helpers/workloads/server-pods.js';
import { describeSlices, familyProblems, waitForFamilySlices } from '../helpers/workloads/service-families.js';

const dualStack = section('Beyond the guide: IPv6 and dual-stack', {
  next: "compare the Service's spec.ipFamilies and clusterIPs with its EndpointSlices of each addressType, then read kube-proxy's rules of the failing family on the node (ip6tables-save -t nat or nft list table ip6 kube-proxy for IPv6) and the pods' status.podIPs",
});

/** The Service with ClientIP affinity in front of the same backends. */
const STICKY = 'hostnames-sticky';
/** The hostNetwork backends' port: its own, as the internalTrafficPolicy and NodePort specs' may hold theirs on the same nodes at once. */
const HOST_PORT = HOST_BACKEND_PORT + 2;
const ECHO_TRIES = 3;

/** PreferDualStack, a NodePort, and the hostnames port over UDP beside TCP: what the second family's checks send to. */
function dualStackNodePort(s: k8s.V1Service): void {
  s.spec!.ipFamilyPolicy = 'PreferDualStack';
  s.spec!.type = 'NodePort';
  const [tcp] = s.spec!.ports!;
  if (!s.spec!.ports!.some((p) => p.protocol === 'UDP')) s.spec!.ports!.push({ ...tcp, name: 'udp', protocol: 'UDP' });
}

describe(dualStack.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('ipfam');
  useDiagnosis(ns, 'hostnames', STICKY);
  const families = cluster.capabilities.ipFamilies;
  const reason = ipv6SkipReason(cluster);
  const dualReason = dualStackSkipReason(cluster);
  const second = secondaryFamily(cluster) as IpFamily;
  let app: Hostnames, client: ClientPod, dialer: string, sticky: ExtraService, host: HostNetworkBackends;
  /** The second family's ClusterIPs of hostnames, the sticky Service and the hostNetwork backends' Service; its node addresses. */
  let secondIP: string, stickyIP: string, hostIP: string, nodeIPs: Map<string, string>;
  /** What kube-proxy had not written of the second family when the setup's budget ended: the checks then show it. */
  const unprogrammed: string[] = [];
  const lagging = () => (unprogrammed.length ? `; kube-proxy lagged: ${unprogrammed.join('; ')}` : '');
  const names = async () => (await app.backendsNow()).map((p) => p.name);
  const fromNodes = () => cluster.nodes.map((node) => nodeVantage(cluster, node));
  /** The second family's ClusterIP of a Service's port over `protocol`, and each node's address of that family at its NodePort. */
  const secondTargets = (clusterIP: string, service: k8s.V1Service, protocol: Protocol): Destination[] => {
    const port = service.spec!.ports!.find((p) => p.protocol === protocol)!;
    const nodePorts = cluster.nodes.map((node) => {
      const ip = nodeIPs.get(node.name);
      expect(
        ip,
        because(dualStack, `node ${node.name} has no ${second} InternalIP to send its NodePort to`),
      ).toBeDefined();
      return { what: `the ${second} NodePort of ${node.name}`, address: hostPort(ip!, port.nodePort!) };
    });
    return [{ what: `the ${second} ClusterIP`, address: hostPort(clusterIP, port.port) }, ...nodePorts];
  };
  /** Each path's problems (everyBackendProblems) in one message, with what kube-proxy had not written in time. */
  const paths = (problems: string[]) => because(dualStack, `${problems.join('\n')}${lagging()}`);

  beforeAll(async () => {
    if (reason) return;
    const dual = !dualReason;
    const hostNs = dual ? await hostNetworkNamespace(cluster, 'ipfam-host') : '';
    const udp = { deployment: declareUdpPort, service: dualStackNodePort };
    let dialerPod, hostBackends;
    [app, client, dialerPod, hostBackends] = await Promise.all([
      // netexec answers /hostname, /echo and /dial over HTTP and "hostname" and "echo" over UDP on one port.
      deployHostnames(cluster, ns, { args: netexecTcpAndUdpArgs(), tweak: udp }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
      // A netexec pod that is no backend: the 2,000-byte datagrams leave from it (svcprobe sends only "hostname").
      dual &&
        startServerPod(cluster, ns, {
          name: 'dialer',
          node: cluster.nodes[0].name,
          labels: {},
          readiness: 'listening',
        }).then(() => waitForServerPod(cluster, ns, 'dialer')),
      dual &&
        deployHostNetworkBackends(cluster, hostNs, 'host-backends', {
          nodes: cluster.nodes.map((n) => n.name),
          port: HOST_PORT,
          udp: true,
          tweak: dualStackNodePort,
        }),
    ]);
    if (!dialerPod || !hostBackends) return;
    [dialer, host] = [dialerPod.ip, hostBackends];
    const container = app.deployment.spec!.template.spec!.containers[0].name;
    [sticky, nodeIPs] = await Promise.all([
      addService(cluster, app, STICKY, (s) => {
        dualStackNodePort(s);
        s.spec!.sessionAffinity = 'ClientIP';
      }),
      internalIPsOfFamily(cluster.kube, second),
    ]);
    // kube-proxy syncs each family apart: the primary family's rules, awaited above, say nothing of the second's.
    // Rules still missing when the budget ends are no setup error: the checks send anyway and name what is silent.
    const programmed = (service: k8s.V1Service, pods: BackendPod[], name: string) =>
      waitForFamilyProgrammed(cluster, service, second, pods, name).catch((error: unknown) => {
        if (!(error instanceof WaitTimeoutError)) throw error;
        unprogrammed.push(error.message);
        return clusterIPOfFamily(service, second)!;
      });
    [secondIP, stickyIP, hostIP] = await Promise.all([
      programmed(app.service, app.pods, container),
      programmed(sticky.service, app.pods, container),
      programmed(host.service, host.pods, 'netexec'),
    ]);
  });

  it.concurrent("gets a ClusterIP of each of the cluster's families", ({ skip }) => {
    if (reason) skip(reason);
    const got = app.service.spec!.ipFamilies ?? [];
    expect(
      [...got].sort(),
      because(
        dualStack,
        `Service ${ns}/${app.name} ipFamilies ${got.join(', ')}, clusterIPs ${app.service.spec!.clusterIPs?.join(', ')}`,
      ),
    ).toEqual([...families].sort());
  });

  it.concurrent('reaches every backend through the IPv6 ClusterIP', async ({ skip }) => {
    if (reason) skip(reason);
    const v6 = app.service.spec!.clusterIPs?.find((ip) => familyOf(ip) === 'IPv6');
    expect(v6, because(dualStack, `no IPv6 ClusterIP on ${ns}/${app.name}`)).toBeDefined();
    const url = `http://${hostPort(v6!, app.port)}/hostname`;
    const rr = await roundRobin(client, url, await names());
    expect(rr.missing, because(dualStack, `${url} from ${client.node}: ${describeDistribution(rr)}`)).toEqual([]);
  });

  it.concurrent(
    'a Service that asks for no family gets one ClusterIP of the primary family, from the primary ServiceCIDR, and EndpointSlices of that family only',
    async ({ skip }) => {
      if (reason) skip(reason);
      const { service } = await createService(cluster, app, 'no-family');
      const primary = families[0];
      const what = `Service ${ns}/no-family (no ipFamilyPolicy, no ipFamilies)`;
      const problems = familyProblems(service, { policy: 'SingleStack', families: [primary] });
      expect(problems, because(dualStack, `${what}: ${problems.join('; ')}`)).toEqual([]);
      // The default ServiceCIDR lists the API server's ranges primary first.
      const ranges = (await cluster.kube.networking.readServiceCIDR({ name: 'kubernetes' })).spec?.cidrs ?? [];
      const inPrimary = rangeContains(parseAddressRange(ranges[0])!, parseAddressRange(service.spec!.clusterIP!)!);
      expect(
        inPrimary,
        because(
          dualStack,
          `${what}: ClusterIP ${service.spec!.clusterIP} (ServiceCIDR kubernetes: ${ranges.join(', ')})`,
        ),
      ).toBe(true);
      const slices = await waitForFamilySlices(cluster, { namespace: ns, name: 'no-family' }, [primary], await names());
      expect(slices, because(dualStack, `${what}: EndpointSlices ${describeSlices(slices)}`)).toEqual({
        [primary]: await names(),
      });
    },
  );

  for (const family of ['IPv4', 'IPv6'] as const)
    it.concurrent(
      `a SingleStack ${family} Service gets one ${family} ClusterIP and EndpointSlices of ${family} only`,
      async ({ skip }) => {
        const lacks = reason ?? familiesSkipReason(cluster, [family]);
        if (lacks) skip(lacks);
        const name = `single-${family.toLowerCase()}`;
        const { service } = await createService(cluster, app, name, (s) => {
          s.spec!.ipFamilyPolicy = 'SingleStack';
          s.spec!.ipFamilies = [family];
        });
        const what = `Service ${ns}/${name} (SingleStack, ipFamilies ${family})`;
        const problems = familyProblems(service, { policy: 'SingleStack', families: [family] });
        expect(problems, because(dualStack, `${what}: ${problems.join('; ')}`)).toEqual([]);
        const slices = await waitForFamilySlices(cluster, { namespace: ns, name }, [family], await names());
        expect(slices, because(dualStack, `${what}: EndpointSlices ${describeSlices(slices)}`)).toEqual({
          [family]: await names(),
        });
      },
    );

  for (const order of [
    ['IPv4', 'IPv6'],
    ['IPv6', 'IPv4'],
  ] as IpFamily[][])
    it.concurrent(
      `a RequireDualStack Service asking ${order.join(', ')} keeps that order in ipFamilies and ClusterIPs, has EndpointSlices of both, and each ClusterIP reaches every backend`,
      async ({ skip }) => {
        if (dualReason) skip(dualReason);
        const name = `dual-${order.map((f) => f.slice(2).toLowerCase()).join('')}`;
        const { service } = await createService(cluster, app, name, (s) => {
          s.spec!.ipFamilyPolicy = 'RequireDualStack';
          s.spec!.ipFamilies = order;
        });
        const what = `Service ${ns}/${name} (RequireDualStack, ipFamilies ${order.join(', ')})`;
        const asked = familyProblems(service, { policy: 'RequireDualStack', families: order });
        expect(asked, because(dualStack, `${what}: ${asked.join('; ')}`)).toEqual([]);
        const backends = await app.backendsNow();
        const slices = await waitForFamilySlices(cluster, { namespace: ns, name }, order, await names());
        expect(slices, because(dualStack, `${what}: EndpointSlices ${describeSlices(slices)}`)).toEqual(
          Object.fromEntries(order.map((family) => [family, backends.map((p) => p.name)])),
        );
        const container = app.deployment.spec!.template.spec!.containers[0].name;
        const clusterIPs = await Promise.all(
          order.map((family) => waitForFamilyProgrammed(cluster, service, family, backends, container)),
        );
        const port = service.spec!.ports![0].port;
        const to = clusterIPs.map((ip, i) => ({ what: `its ${order[i]} ClusterIP`, address: hostPort(ip, port) }));
        const unreached = await everyBackendProblems([podVantage(client)], 'TCP', to, backends);
        expect(unreached, because(dualStack, `${what}: ${unreached.join('\n')}`)).toEqual([]);
      },
    );

  for (const protocol of ['TCP', 'UDP'] as const) {
    const over = protocol === 'TCP' ? 'HTTP' : 'UDP';
    it.concurrent(
      `from a pod, the second family's ClusterIP and every node's NodePort of that family reach every backend over ${over}`,
      async ({ skip }) => {
        if (dualReason) skip(dualReason);
        const to = secondTargets(secondIP, app.service, protocol);
        const problems = await everyBackendProblems([podVantage(client)], protocol, to, await app.backendsNow());
        expect(problems, paths(problems)).toEqual([]);
      },
    );

    it.concurrent(
      `from every node, the second family's ClusterIP and every node's NodePort of that family reach every backend over ${over}`,
      async ({ skip }) => {
        if (dualReason) skip(dualReason);
        skipWithoutNodeAccess(cluster, skip);
        const to = secondTargets(secondIP, app.service, protocol);
        const problems = await everyBackendProblems(fromNodes(), protocol, to, await app.backendsNow());
        expect(problems, paths(problems)).toEqual([]);
      },
    );

    it.concurrent(
      `from one of its backends, the second family's ClusterIP and every node's NodePort of that family reach every backend (itself too) over ${over}`,
      async ({ skip }) => {
        if (dualReason) skip(dualReason);
        const backends = await app.backendsNow();
        // netexec's /dial makes the backend send: asked over the primary family, it dials the second one.
        const to = secondTargets(secondIP, app.service, protocol);
        const problems = await everyBackendProblems([endpointVantage(client, backends[0])], protocol, to, backends);
        expect(problems, paths(problems)).toEqual([]);
      },
    );

    it.concurrent(
      `ClientIP affinity on the second family's ClusterIP sends every ${protocol === 'TCP' ? 'HTTP request' : 'UDP datagram'} of one client to one backend`,
      async ({ skip }) => {
        if (dualReason) skip(dualReason);
        // One request after the other: the first one's backend is the one the affinity records.
        const address = hostPort(stickyIP, sticky.port);
        const tally =
          protocol === 'TCP'
            ? await client.http(`http://${address}/hostname`, { count: LOOK_REQUESTS })
            : await client.udp(address, { count: LOOK_REQUESTS });
        expect(
          stickyBackend(tally),
          because(
            dualStack,
            `${ns}/${STICKY} (sessionAffinity ClientIP) at its ${second} ClusterIP over ${protocol} from pod ${client.name}: ${describeLook(tally)}${lagging()}`,
          ),
        ).toBeDefined();
      },
    );
  }

  it.concurrent("echoes a 2,000-byte HTTP request whole through the second family's ClusterIP", async ({ skip }) => {
    if (dualReason) skip(dualReason);
    const url = `http://${hostPort(secondIP, app.port)}/echo?msg=${LARGE_REQUEST}`;
    const tally = await client.http(url, { count: ECHO_TRIES });
    expect(
      tally.answers,
      because(
        dualStack,
        `${ECHO_TRIES} GET /echo?msg=<${LARGE_REQUEST.length} bytes> to ${second} ClusterIP ${hostPort(secondIP, app.port)} from pod ${client.name}: ${echoLengths(tally)} (${tally.sampleError ?? 'no error'})${lagging()}`,
      ),
    ).toEqual({ [LARGE_REQUEST]: ECHO_TRIES });
  });

  it.concurrent("echoes a 2,000-byte datagram whole through the second family's ClusterIP", async ({ skip }) => {
    if (dualReason) skip(dualReason);
    const udpPort = app.service.spec!.ports!.find((p) => p.protocol === 'UDP')!.port;
    const datagram = { protocol: 'udp', host: secondIP, port: udpPort, request: `echo ${LARGE_DATAGRAM}` } as const;
    const tally = await dialFrom(client, dialer, datagram, ECHO_TRIES);
    expect(
      tally.answers,
      because(
        dualStack,
        `${ECHO_TRIES} datagrams of ${LARGE_DATAGRAM.length + 5} bytes to ${second} ClusterIP ${hostPort(secondIP, udpPort)} from pod dialer: ${echoLengths(tally)} (${tally.sampleError ?? 'no error'})${lagging()}`,
      ),
    ).toEqual({ [LARGE_DATAGRAM]: ECHO_TRIES });
  });

  it.concurrent(
    "hostNetwork backends answer on the second family's ClusterIP and every NodePort of it, from a pod over HTTP and from every node over HTTP and UDP",
    async ({ skip }) => {
      if (dualReason) skip(dualReason);
      // A hostNetwork backend answers /hostname with its node's name.
      const backends = host.pods.map((p) => ({ ...p, name: p.node }));
      const nodes = nodeAccessSkipReason(cluster) ? [] : fromNodes();
      const problems = (
        await Promise.all([
          everyBackendProblems([podVantage(client)], 'TCP', secondTargets(hostIP, host.service, 'TCP'), backends),
          ...(['TCP', 'UDP'] as const).map((protocol) =>
            everyBackendProblems(nodes, protocol, secondTargets(hostIP, host.service, protocol), backends),
          ),
        ])
      ).flat();
      expect(problems, paths(problems)).toEqual([]);
    },
  );

  it.concurrent(
    "hostNetwork backends echo a 2,000-byte HTTP request from a pod and a 2,000-byte datagram from a node whole through the second family's ClusterIP",
    async ({ skip }) => {
      if (dualReason) skip(dualReason);
      const url = `http://${hostPort(hostIP, host.port)}/echo?msg=${LARGE_REQUEST}`;
      const http = await client.http(url, { count: ECHO_TRIES });
      // The datagrams leave from the last node's network, through its hostNetwork netexec's /dial.
      const from = host.pods.at(-1)!;
      const fromIP = cluster.nodes.find((n) => n.name === from.node)!.internalIP;
      const datagram = { protocol: 'udp', host: hostIP, port: host.port, request: `echo ${LARGE_DATAGRAM}` } as const;
      const udp = await dialFrom(client, fromIP, datagram, ECHO_TRIES, HOST_PORT);
      const to = `${second} ClusterIP ${hostPort(hostIP, host.port)} of hostNetwork backends`;
      expect(
        [http.answers, udp.answers],
        because(
          dualStack,
          `to ${to}: HTTP from pod ${client.name} ${echoLengths(http)} (${http.sampleError ?? 'no error'}); UDP from node ${from.node} ${echoLengths(udp)} (${udp.sampleError ?? 'no error'})${lagging()}`,
        ),
      ).toEqual([{ [LARGE_REQUEST]: ECHO_TRIES }, { [LARGE_DATAGRAM]: ECHO_TRIES }]);
    },
  );

  // From the dialer, on the first node as one of the backends is: that one's reply must leave from the node address
  // the Service's DNAT chose (its UDP server listens there, as upstream's does), or conntrack cannot undo the DNAT.
  it.concurrent(
    "hostNetwork backends answer a pod over UDP on the second family's ClusterIP and every NodePort of it, each of them, and echo its 2,000-byte datagram whole",
    async ({ skip }) => {
      if (dualReason) skip(dualReason);
      const node = cluster.nodes[0].name;
      const fromDialer = {
        ...endpointVantage(client, { name: 'dialer', ip: dialer, node, uid: '' }),
        where: `pod dialer on ${node}`,
      };
      const backends = host.pods.map((p) => ({ ...p, name: p.node }));
      const targets = secondTargets(hostIP, host.service, 'UDP');
      const problems = await everyBackendProblems([fromDialer], 'UDP', targets, backends);
      const datagram = { protocol: 'udp', host: hostIP, port: host.port, request: `echo ${LARGE_DATAGRAM}` } as const;
      const echoed = await dialFrom(client, dialer, datagram, ECHO_TRIES);
      expect(problems, paths(problems)).toEqual([]);
      expect(
        echoed.answers,
        because(
          dualStack,
          `${ECHO_TRIES} datagrams of ${LARGE_DATAGRAM.length + 5} bytes to ${second} ClusterIP ${hostPort(hostIP, host.port)} of hostNetwork backends from pod dialer: ${echoLengths(echoed)} (${echoed.sampleError ?? 'no error'})${lagging()}`,
        ),
      ).toEqual({ [LARGE_DATAGRAM]: ECHO_TRIES });
    },
  );

  // Last and alone: it deletes one of the backends every check above sends to.
  it("after a backend pod is deleted, the second family's ClusterIP reaches exactly the remaining backends and its replacement over HTTP and UDP, never the deleted pod", async ({
    skip,
  }) => {
    if (dualReason) skip(dualReason);
    const [gone] = await app.backendsNow();
    const { pods: after, unprogrammed: primaryLag } = await deleteBackend(cluster, app, gone, [app.service]);
    const container = app.deployment.spec!.template.spec!.containers[0].name;
    // Not written within the budget: the requests show what that leaves, and the message says it lagged.
    const secondLag = await waitForFamilyProgrammed(cluster, app.service, second, after, container).then(
      () => '',
      (error: unknown) => {
        if (!(error instanceof WaitTimeoutError)) throw error;
        return error.message;
      },
    );
    const expected = after.map((p) => p.name).sort();
    const lags = [primaryLag, secondLag].filter(Boolean);
    const lag = lags.length ? `; kube-proxy lagged: ${lags.join('; ')}` : '';
    for (const protocol of ['TCP', 'UDP'] as const) {
      const [{ what, address }] = secondTargets(secondIP, app.service, protocol);
      const rr = await roundRobinWith(address, expected, (count) => podVantage(client).ask(protocol, address, count));
      expect(
        answered(rr),
        because(
          dualStack,
          `${protocol} to ${what} ${address} from pod ${client.name} after ${gone.name} was deleted (ready now: ${expected.join(', ')}): ${describeDistribution(rr)}${lag}`,
        ),
      ).toEqual(expected);
    }
  });
});
