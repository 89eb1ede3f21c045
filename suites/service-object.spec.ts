// suites/service-object.spec.ts — beyond the guide: the Service object
// Proves: a Service's ports, protocols, type and life follow its object: per-port endpoints and answers as the pods
// serving each named port come and go; a port added and removed; one port over TCP and UDP, either dropped; ClusterIP
// to NodePort over both; a deleted Service silent (pods, nodes) and its NodePorts free; recreated, it answers; sidecar ports.
// A failure usually means: kube-proxy does not follow a changed Service (rules missing for a new port or protocol, left
// for a removed or deleted one), or the endpoint controllers do not resolve a named port (of a sidecar) per pod.
import type { IntOrString } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostPort } from '../helpers/address.js';
import { apiErrorLine } from '../helpers/cluster/attach.js';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { isNotFound } from '../helpers/kube/client.js';
import { endpointSliceAddresses, patchServiceSpec, waitForEndpointObjects } from '../helpers/kube/services.js';
import { waitFor } from '../helpers/kube/wait.js';
import { nodeAccessSkipReason, skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { changeServiceType } from '../helpers/workloads/external-name.js';
import {
  createService,
  declareUdpPort,
  deployHostnames,
  HOSTNAMES_PORT,
  netexecTcpAndUdpArgs,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { namedPortServer, sidecarServer, startPod } from '../helpers/workloads/port-servers.js';
import { applyServiceOver } from '../helpers/workloads/service-over.js';
import {
  nodeVantage,
  podVantage,
  stillAnswering,
  unanswered,
  type Protocol,
  type Vantage,
} from '../helpers/workloads/vantage.js';

const object = section('Beyond the guide: the Service object', {
  next: "compare the Service's ports (name, port, protocol, targetPort, nodePort) with its EndpointSlices' ports and with kube-proxy's rules for each port on the node the check names (iptables-save | grep <namespace>/<service>, or nft list table ip kube-proxy): a port added, a protocol or type changed must get rules within a sync, a port removed or a Service deleted must lose them",
});

/** The backends' Deployment: netexec answering its pod name over TCP and UDP on the hostnames port. */
const BACKENDS = 'backends';
/** The two ports of the multiport Service, each served by its own pod on its own port number. */
const FIRST = { portName: 'first', port: HOSTNAMES_PORT, servicePort: 80 };
const SECOND = { portName: 'second', port: HOSTNAMES_PORT + 1, servicePort: 81 };
/** The sidecar's container port name, as a Service's targetPort names it. */
const SIDECAR_PORT = 'http-sidecar';

const tcp = (name: string, port = 80, targetPort: IntOrString = HOSTNAMES_PORT) => ({
  name,
  port,
  targetPort,
  protocol: 'TCP',
});
const udp = (name: string, port = 80) => ({ name, port, targetPort: HOSTNAMES_PORT, protocol: 'UDP' });

describe(object.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('service-object');
  useDiagnosis(ns, BACKENDS);
  const budget = cluster.settings.timeouts.serviceSync;
  let app: Hostnames, client: ClientPod, pod: Vantage;
  /** The nodes to ask from, where node commands can run. */
  const nodeVantages = () => (nodeAccessSkipReason(cluster) ? [] : cluster.nodes.map((n) => nodeVantage(cluster, n)));
  /** Where node commands cannot run, the words that say the nodes were not asked. */
  const notFromNodes = () => {
    const reason = nodeAccessSkipReason(cluster);
    return reason ? ` (not asked from the nodes: ${reason})` : '';
  };
  /** An expectation's message on a list of problems: the check's words, then each problem (an empty list passes). */
  const saying = (what: string, problems: string[]) =>
    because(object, problems.length ? `${what}: ${problems.join('; ')}` : what);
  /** An expectation's message on what a Service's EndpointSlices list per port. */
  const listing = (what: string, seen: string[]) =>
    because(object, `${what}: its EndpointSlices list ${seen.join(', ') || 'nothing'}`);

  /** The Service's ready endpoints as "port name → pod:port", sorted. */
  const perPort = async (service: string) =>
    (await endpointSliceAddresses(cluster.kube, ns, service))
      .filter((e) => e.ready)
      .map((e) => `${e.portName} → ${e.podName}:${e.port}`)
      .sort();
  /** Waits until the Service's EndpointSlices list exactly `want` per port; what they list then. */
  const listsPerPort = async (service: string, want: string[]) => {
    let seen: string[] = [];
    await waitFor(
      `the EndpointSlices of ${ns}/${service} listing ${want.join(', ') || 'nothing'}`,
      budget,
      async () => {
        seen = await perPort(service);
        return { done: seen.join() === want.join(), seen: seen.join(', ') || 'nothing' };
      },
    ).catch(() => undefined);
    return seen;
  };
  /** Deletes the Service and waits until it is gone from the API (a finalizer would hold it). */
  const deleteService = async (name: string) => {
    await cluster.kube.core.deleteNamespacedService({ namespace: ns, name });
    await waitFor(`Service ${ns}/${name} gone`, budget, () =>
      cluster.kube.core.readNamespacedService({ namespace: ns, name }).then(
        (s) => ({ done: false, seen: `still there (finalizers: ${s.metadata?.finalizers?.join(', ') || 'none'})` }),
        (error: unknown) => {
          if (isNotFound(error)) return { done: true, seen: 'gone' };
          throw error;
        },
      ),
    );
  };
  /** Where not every backend answers (and nothing else), from each vantage, over each protocol, at each address. */
  const everyBackend = async (from: Vantage[], asks: [Protocol, string][]) => {
    const expected = (await app.backendsNow()).map((p) => p.name);
    const problems = await Promise.all(
      from.flatMap((v) => asks.map(([protocol, address]) => unanswered(v, protocol, address, expected, budget))),
    );
    return problems.filter(Boolean);
  };
  /** Where something still answers once the budget has passed, from each vantage, over each protocol, at each address. */
  const silent = async (from: Vantage[], asks: [Protocol, string][]) => {
    const problems = await Promise.all(
      from.flatMap((v) => asks.map(([protocol, address]) => stillAnswering(v, protocol, address, budget))),
    );
    return problems.filter(Boolean);
  };

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, {
        name: BACKENDS,
        replicas: 2,
        args: netexecTcpAndUdpArgs(),
        tweak: { deployment: declareUdpPort },
      }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
    ]);
    pod = podVantage(client);
  });

  // Upstream's "named targetPorts that resolve to different ports on different endpoints": the name, not a number,
  // is the Service's contract; each pod gives it its own number. Fails where the EndpointSlice controller resolves
  // the name once for all pods, or kube-proxy writes one target port for every endpoint.
  it.concurrent(
    "a named targetPort resolves to each pod's own port number: the EndpointSlices list each pod under its number, and the ClusterIP reaches both",
    async () => {
      const name = 'named-target';
      const selector = { 'named-target': 'on' };
      const node = cluster.nodes.at(-1)!.name;
      const made = await applyServiceOver(cluster, ns, name, selector, (s) => {
        s.spec!.ports = [tcp('http', 80, 'http')];
      });
      const servers = await Promise.all(
        [HOSTNAMES_PORT, HOSTNAMES_PORT + 2].map((port, i) =>
          startPod(
            cluster,
            namedPortServer(cluster, ns, {
              name: `named-target-${i + 1}`,
              node,
              labels: selector,
              portName: 'http',
              port,
            }),
          ).then((server) => ({ server, port })),
        ),
      );
      const want = servers.map(({ server, port }) => `http → ${server.name}:${port}`).sort();
      const seen = await listsPerPort(name, want);
      expect(seen, listing(`${name}, targetPort "http" (9376 on one pod, 9378 on the other)`, seen)).toEqual(want);
      const at = hostPort(made.spec!.clusterIP!, 80);
      const problems = [
        await unanswered(
          pod,
          'TCP',
          at,
          servers.map(({ server }) => server.name),
          budget,
        ),
      ].filter(Boolean);
      expect(problems, saying(`${name}: the ClusterIP must reach each pod on its own port`, problems)).toEqual([]);
    },
  );

  it.concurrent(
    'a Service with two named ports lists each pod under the port it serves as the pods come and go, and each port answers from its own pod',
    async () => {
      const name = 'multiport';
      const selector = { multiport: 'on' };
      const node = cluster.nodes.at(-1)!.name;
      const made = await applyServiceOver(cluster, ns, name, selector, (s) => {
        s.spec!.ports = [FIRST, SECOND].map((p) => tcp(p.portName, p.servicePort, p.portName));
      });
      await waitForEndpointObjects(cluster.kube, ns, name, budget);
      let seen = await listsPerPort(name, []);
      expect(seen, listing(`${name} before any pod serves it`, seen)).toEqual([]);
      const served = (p: typeof FIRST, server: string) => `${p.portName} → ${server}:${p.port}`;
      const server = (p: typeof FIRST) =>
        startPod(cluster, namedPortServer(cluster, ns, { name: `serves-${p.portName}`, node, labels: selector, ...p }));
      const first = await server(FIRST);
      seen = await listsPerPort(name, [served(FIRST, first.name)]);
      expect(
        seen,
        listing(`${name} once ${first.name} serves port "${FIRST.portName}" (${FIRST.port}) alone`, seen),
      ).toEqual([served(FIRST, first.name)]);
      const second = await server(SECOND);
      const both = [served(FIRST, first.name), served(SECOND, second.name)];
      seen = await listsPerPort(name, both);
      expect(
        seen,
        listing(`${name} once ${second.name} serves port "${SECOND.portName}" (${SECOND.port})`, seen),
      ).toEqual(both);
      const ip = made.spec!.clusterIP!;
      const [at80, at81] = [hostPort(ip, FIRST.servicePort), hostPort(ip, SECOND.servicePort)];
      let problems = [
        await unanswered(pod, 'TCP', at80, [first.name], budget),
        await unanswered(pod, 'TCP', at81, [second.name], budget),
      ].filter(Boolean);
      expect(problems, saying(`${name}: each port must reach its own pod only`, problems)).toEqual([]);

      await cluster.kube.core.deleteNamespacedPod({ namespace: ns, name: first.name, gracePeriodSeconds: 0 });
      seen = await listsPerPort(name, [served(SECOND, second.name)]);
      expect(seen, listing(`${name} after ${first.name} was deleted`, seen)).toEqual([served(SECOND, second.name)]);
      const at80now = await client.dialUntil(at80, 'refused');
      problems = [
        at80now.outcome === 'refused'
          ? ''
          : `TCP ${at80} (no endpoint left) from ${pod.where}: ${at80now.outcome} ${at80now.error ?? ''}, not refused`,
        await unanswered(pod, 'TCP', at81, [second.name], budget),
      ].filter(Boolean);
      expect(problems, saying(`${name} after ${first.name} was deleted`, problems)).toEqual([]);
      await cluster.kube.core.deleteNamespacedPod({ namespace: ns, name: second.name, gracePeriodSeconds: 0 });
      seen = await listsPerPort(name, []);
      expect(seen, listing(`${name} after both pods were deleted`, seen)).toEqual([]);
    },
  );

  it.concurrent(
    'a port added to a live Service gets endpoints and answers from every backend; removed, it stops answering while the first port goes on',
    async () => {
      const name = 'edit-ports';
      const made = (await createService(cluster, app, name, (s) => void (s.spec!.ports = [tcp('first')]))).service;
      const ref = { namespace: ns, name };
      const ip = made.spec!.clusterIP!;
      const [at80, at81] = [hostPort(ip, 80), hostPort(ip, 81)];
      let problems = await everyBackend([pod], [['TCP', at80]]);
      expect(problems, saying(`${name} with its first port`, problems)).toEqual([]);

      await patchServiceSpec(cluster.kube, ref, { ports: [tcp('first'), tcp('added', 81)] });
      const backends = await app.backendsNow();
      const listed = (port: string) => backends.map((b) => `${port} → ${b.name}:${HOSTNAMES_PORT}`).sort();
      const want = [...listed('added'), ...listed('first')].sort();
      let seen = await listsPerPort(name, want);
      expect(seen, listing(`${name} once port 81 ("added") was added`, seen)).toEqual(want);
      problems = await everyBackend(
        [pod],
        [
          ['TCP', at81],
          ['TCP', at80],
        ],
      );
      expect(problems, saying(`${name} once port 81 ("added") was added`, problems)).toEqual([]);

      await patchServiceSpec(cluster.kube, ref, { ports: [tcp('first')] });
      seen = await listsPerPort(name, listed('first'));
      expect(seen, listing(`${name} once port 81 was removed`, seen)).toEqual(listed('first'));
      problems = [...(await silent([pod], [['TCP', at81]])), ...(await everyBackend([pod], [['TCP', at80]]))];
      expect(problems, saying(`${name} once port 81 was removed: its rules must go, port 80's stay`, problems)).toEqual(
        [],
      );
    },
  );

  it.concurrent(
    'one port number over TCP and UDP: both answer from every backend; with only TCP left, UDP stops answering; with only UDP left, TCP stops',
    async () => {
      const name = 'two-protocols';
      const made = (
        await createService(cluster, app, name, (s) => void (s.spec!.ports = [tcp('tcp-port'), udp('udp-port')]))
      ).service;
      const ref = { namespace: ns, name };
      const at = hostPort(made.spec!.clusterIP!, 80);
      let problems = await everyBackend(
        [pod],
        [
          ['TCP', at],
          ['UDP', at],
        ],
      );
      expect(problems, saying(`${name} with port 80 over TCP and UDP`, problems)).toEqual([]);
      await patchServiceSpec(cluster.kube, ref, { ports: [tcp('tcp-port')] });
      problems = [...(await everyBackend([pod], [['TCP', at]])), ...(await silent([pod], [['UDP', at]]))];
      expect(problems, saying(`${name} with port 80 over TCP only (the UDP port removed)`, problems)).toEqual([]);
      await patchServiceSpec(cluster.kube, ref, { ports: [udp('udp-port')] });
      problems = [...(await everyBackend([pod], [['UDP', at]])), ...(await silent([pod], [['TCP', at]]))];
      expect(problems, saying(`${name} with port 80 over UDP only (the TCP port removed)`, problems)).toEqual([]);
    },
  );

  it.concurrent(
    "changed from ClusterIP to NodePort answers on every node's NodePort; given port 80 over UDP beside TCP, it gets a NodePort for each and answers on both",
    async () => {
      const name = 'to-node-port';
      const made = (await createService(cluster, app, name, (s) => void (s.spec!.ports = [tcp('tcp-port')]))).service;
      const at = hostPort(made.spec!.clusterIP!, 80);
      let problems = await everyBackend([pod], [['TCP', at]]);
      expect(problems, saying(`${name} as a ClusterIP Service`, problems)).toEqual([]);
      const changed = await changeServiceType(cluster, ns, name, 'NodePort', () => {});
      const tcpNodePort = changed.spec!.ports![0].nodePort!;
      const onNodes = (protocol: Protocol, port: number): [Protocol, string][] =>
        cluster.nodes.map((n) => [protocol, hostPort(n.internalIP, port)]);
      problems = await everyBackend([pod], onNodes('TCP', tcpNodePort));
      expect(problems, saying(`${name} changed to NodePort (${tcpNodePort}/TCP)`, problems)).toEqual([]);

      const both = await patchServiceSpec(
        cluster.kube,
        { namespace: ns, name },
        { ports: [{ ...tcp('tcp-port'), nodePort: tcpNodePort }, udp('udp-port')] },
      );
      const nodePorts = (both.spec!.ports ?? []).map((p) => `${p.protocol} ${p.port}: ${p.nodePort ?? 'none'}`);
      const [tcpPort, udpPort] = ['TCP', 'UDP'].map((p) => both.spec!.ports!.find((q) => q.protocol === p)?.nodePort);
      expect(
        { tcp: tcpPort! > 0, udp: udpPort! > 0 },
        because(object, `${name}'s NodePorts once given port 80 over UDP too: ${nodePorts.join(', ')}`),
      ).toEqual({ tcp: true, udp: true });
      problems = await everyBackend(
        [pod],
        [['TCP', at], ['UDP', at], ...onNodes('TCP', tcpPort!), ...onNodes('UDP', udpPort!)],
      );
      expect(
        problems,
        saying(`${name} with port 80 over TCP (NodePort ${tcpPort}) and UDP (NodePort ${udpPort})`, problems),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'of three Services over the same pods, the one deleted stops answering from a pod and from every node while another goes on, and the third gets a ClusterIP of its own and answers',
    async ({ annotate }) => {
      const [one, two] = await Promise.all(['up-down-1', 'up-down-2'].map((n) => createService(cluster, app, n)));
      const from = [pod, ...nodeVantages()];
      if (notFromNodes()) await annotate(`asked from ${pod.where} only${notFromNodes()}`);
      const at = (s: { clusterIP: string }): [Protocol, string][] => [['TCP', hostPort(s.clusterIP, 80)]];
      let problems = await everyBackend(from, [...at(one), ...at(two)]);
      expect(
        problems,
        saying(
          `up-down-1 (${one.clusterIP}) and up-down-2 (${two.clusterIP}) before a deletion${notFromNodes()}`,
          problems,
        ),
      ).toEqual([]);
      await deleteService('up-down-1');
      problems = [...(await silent(from, at(one))), ...(await everyBackend(from, at(two)))];
      expect(
        problems,
        saying(`up-down-1 (${one.clusterIP}) deleted, up-down-2 (${two.clusterIP}) kept${notFromNodes()}`, problems),
      ).toEqual([]);
      const three = await createService(cluster, app, 'up-down-3');
      problems = [
        ...(three.clusterIP === two.clusterIP ? [`up-down-3 was given up-down-2's ClusterIP ${two.clusterIP}`] : []),
        ...(await everyBackend(from, [...at(two), ...at(three)])),
      ];
      expect(
        problems,
        saying(`up-down-3 (${three.clusterIP}) made beside up-down-2 (${two.clusterIP})${notFromNodes()}`, problems),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'deleted and created again under the same name, a Service answers again from every backend',
    async () => {
      const name = 'recreated';
      const before = await createService(cluster, app, name);
      let problems = await everyBackend([pod], [['TCP', hostPort(before.clusterIP, 80)]]);
      expect(problems, saying(`${name} (${before.clusterIP}) as first made`, problems)).toEqual([]);
      await deleteService(name);
      const again = await createService(cluster, app, name);
      problems = await everyBackend([pod], [['TCP', hostPort(again.clusterIP, 80)]]);
      expect(problems, saying(`${name} made again (${again.clusterIP}; it was ${before.clusterIP})`, problems)).toEqual(
        [],
      );
    },
  );

  /** A NodePort Service over the backends with port 80 over TCP and UDP: each protocol's NodePort on every node. */
  const nodePortService = async (name: string, nodePorts: { tcp?: number; udp?: number } = {}) => {
    const made = await createService(cluster, app, name, (s) => {
      s.spec!.type = 'NodePort';
      s.spec!.ports = [
        { ...tcp('tcp-port'), nodePort: nodePorts.tcp },
        { ...udp('udp-port'), nodePort: nodePorts.udp },
      ];
    });
    const [tcpPort, udpPort] = made.service.spec!.ports!.map((p) => p.nodePort!);
    const asks: [Protocol, string][] = cluster.nodes.flatMap((n) => [
      ['TCP', hostPort(n.internalIP, tcpPort)],
      ['UDP', hostPort(n.internalIP, udpPort)],
    ]);
    return { tcp: tcpPort, udp: udpPort, asks };
  };

  it.concurrent(
    "deleted, a NodePort Service's NodePorts stop answering over TCP and UDP from every node",
    async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const name = 'node-port-deleted';
      const made = await nodePortService(name);
      const from = nodeVantages();
      let problems = await everyBackend(from, made.asks);
      expect(
        problems,
        saying(`${name}'s NodePorts (TCP ${made.tcp}, UDP ${made.udp}) before the deletion`, problems),
      ).toEqual([]);
      await deleteService(name);
      problems = await silent(from, made.asks);
      expect(
        problems,
        saying(
          `${name} deleted: its NodePorts (TCP ${made.tcp}, UDP ${made.udp}) must lose their rules on every node`,
          problems,
        ),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'deleted, a NodePort Service gives its NodePorts back: they stop answering from a pod, and a new Service asking for them gets them and answers on them',
    async () => {
      const made = await nodePortService('node-port-released');
      let problems = await everyBackend([pod], made.asks);
      expect(
        problems,
        saying(`node-port-released's NodePorts (TCP ${made.tcp}, UDP ${made.udp}) before the deletion`, problems),
      ).toEqual([]);
      await deleteService('node-port-released');
      problems = await silent([pod], made.asks);
      expect(
        problems,
        saying(`node-port-released deleted: its NodePorts (TCP ${made.tcp}, UDP ${made.udp})`, problems),
      ).toEqual([]);
      let refusal = '';
      const taken = await nodePortService('node-port-retaken', { tcp: made.tcp, udp: made.udp }).catch(
        (error: unknown) => void (refusal = apiErrorLine(error instanceof Error ? error.message : String(error))),
      );
      expect(
        { tcp: taken?.tcp, udp: taken?.udp },
        because(
          object,
          `node-port-retaken asked for the released NodePorts TCP ${made.tcp}, UDP ${made.udp}${refusal ? `: "${refusal}"` : ''}`,
        ),
      ).toEqual({ tcp: made.tcp, udp: made.udp });
      problems = await everyBackend([pod], taken!.asks);
      expect(
        problems,
        saying(`node-port-retaken on the NodePorts it took over (TCP ${taken!.tcp}, UDP ${taken!.udp})`, problems),
      ).toEqual([]);
    },
  );

  for (const by of ['number', 'name'] as const) {
    it.concurrent(`reaches a restartable init container (sidecar) by its port's ${by}`, async () => {
      const name = by === 'number' ? 'sidecar-port' : 'sidecar-named-port';
      const labels = { sidecar: by };
      const node = cluster.nodes.at(-1)!.name;
      const server = await startPod(
        cluster,
        sidecarServer(cluster, ns, { name: `sidecar-by-${by}`, node, labels, portName: SIDECAR_PORT }),
      );
      const target = by === 'number' ? HOSTNAMES_PORT : SIDECAR_PORT;
      const made = await applyServiceOver(cluster, ns, name, labels, (s) => {
        s.spec!.ports = [tcp(SIDECAR_PORT, 80, target)];
      });
      const want = [`${SIDECAR_PORT} → ${server.name}:${HOSTNAMES_PORT}`];
      const seen = await listsPerPort(name, want);
      expect(seen, listing(`${name} (targetPort ${JSON.stringify(target)}, the sidecar's port)`, seen)).toEqual(want);
      const at = hostPort(made.spec!.clusterIP!, 80);
      const problems = [await unanswered(pod, 'TCP', at, [server.name], budget)].filter(Boolean);
      expect(problems, saying(`${name}: the sidecar of ${server.name} on ${server.node}`, problems)).toEqual([]);
    });
  }
});
