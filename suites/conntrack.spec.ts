// suites/conntrack.spec.ts — beyond the guide: conntrack under a changing Service
// Proves: a UDP flow that keeps its source port follows its Service when the server pod is replaced (ClusterIP,
// NodePort, internalTrafficPolicy Local, from a node as a hostNetwork pod sends), when its only endpoint turns
// ready, and when a NodePort's targetPort changes; out-of-window TCP packets cannot reset a Service connection (a
// backend sends them, as upstream's regression-issue-74839 does, and the connection must outlive them);
// a connection in CLOSE_WAIT keeps kube-proxy's timeout (an hour by default).
// A failure usually means: kube-proxy no longer deletes the conntrack entries of removed UDP endpoints, or its
// conntrack settings (INVALID drop rule, nf_conntrack_tcp_be_liberal, tcpCloseWaitTimeout) are not applied.
import { beforeAll, describe, it } from 'vitest';
import { hostPort } from '../helpers/address.js';
import { because } from '../helpers/diagnose/guide.js';
import {
  configuredCloseWait,
  DEFAULT_CLOSE_WAIT_SECONDS,
  invalidExposure,
  invalidHandling,
  CLOSE_WAIT_SYSCTL,
} from '../helpers/node/conntrack-settings.js';
import { runOnNode, skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { leaveInCloseWait } from '../helpers/workloads/close-wait.js';
import {
  cycleUnderFlow,
  fromNode,
  readyUnderFlow,
  retargetUnderFlow,
  UdpFlow,
} from '../helpers/workloads/conntrack-flows.js';
import { hostNetworkNamespace } from '../helpers/workloads/host-network.js';
import { deployOutOfWindowServer, outOfWindowTries } from '../helpers/workloads/out-of-window.js';
import { createUdpService } from '../helpers/workloads/udp-servers.js';

/** Each check's own Service: it cycles that Service's servers. */
const SERVICES = ['to-clusterip', 'to-nodeport', 'to-local', 'from-node', 'to-unready', 'to-retarget'];
/** Connections that must each outlive the out-of-window segment their backend sends. */
const OUT_OF_WINDOW_TRIES = 5;
/** The UDP target ports the retargeted NodePort moves between (upstream's). */
const FROM_PORT = 8080;
const TO_PORT = 9090;

describe('Beyond the guide: conntrack', () => {
  const cluster = useCluster();
  const ns = useNamespace('conntrack');
  useDiagnosis(ns, ...SERVICES);
  let client: ClientPod;
  const [clientNode] = cluster.nodes;
  // With two nodes the servers run on the other one, so flows cross nodes as upstream's do.
  const serverNode = cluster.nodes[1] ?? clientNode;

  beforeAll(async () => {
    client = await startClientPod(cluster, ns, { node: clientNode.name });
  });

  it.concurrent(
    'a UDP flow to a ClusterIP moves to the new server pod when the old one is deleted',
    async ({ expect }) => {
      const svc = await createUdpService(cluster, ns, 'to-clusterip');
      const flow = new UdpFlow(cluster, client, hostPort(svc.clusterIP, svc.port));
      const problems = await cycleUnderFlow(cluster, ns, svc, flow, { node: serverNode.name });
      expect(
        problems,
        because(
          'conntrack',
          `pod on ${clientNode.name} → ClusterIP, servers on ${serverNode.name}: ${problems.join('; ')}`,
        ),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'a UDP flow to a NodePort moves to the new server pod when the old one is deleted',
    async ({ expect }) => {
      const svc = await createUdpService(cluster, ns, 'to-nodeport', (s) => void (s.spec!.type = 'NodePort'));
      const flow = new UdpFlow(cluster, client, hostPort(serverNode.internalIP, svc.nodePort!));
      const problems = await cycleUnderFlow(cluster, ns, svc, flow, { node: serverNode.name });
      expect(
        problems,
        because('conntrack', `pod on ${clientNode.name} → ${serverNode.name}'s NodePort: ${problems.join('; ')}`),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'a UDP flow to an internalTrafficPolicy Local ClusterIP moves to the new node-local server pod when the old one is deleted',
    async ({ expect }) => {
      const svc = await createUdpService(
        cluster,
        ns,
        'to-local',
        (s) => void (s.spec!.internalTrafficPolicy = 'Local'),
      );
      const flow = new UdpFlow(cluster, client, hostPort(svc.clusterIP, svc.port));
      // Another node's server too, as upstream's DaemonSet has one on every node: the flow must stay local.
      const alsoOn = serverNode === clientNode ? undefined : serverNode.name;
      const problems = await cycleUnderFlow(cluster, ns, svc, flow, { node: clientNode.name, alsoOn });
      expect(
        problems,
        because('conntrack', `pod on ${clientNode.name} → ClusterIP, iTP Local: ${problems.join('; ')}`),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'a UDP flow from a node (as from a hostNetwork pod) to a ClusterIP moves to the new server pod when the old one is deleted',
    async ({ expect, skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const svc = await createUdpService(cluster, ns, 'from-node');
      const flow = new UdpFlow(cluster, fromNode(cluster, clientNode), hostPort(svc.clusterIP, svc.port));
      const problems = await cycleUnderFlow(cluster, ns, svc, flow, { node: serverNode.name });
      expect(
        problems,
        because(
          'conntrack',
          `node ${clientNode.name} → ClusterIP, servers on ${serverNode.name}: ${problems.join('; ')}`,
        ),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'a UDP flow started while the only endpoint is unready reaches it once it turns ready',
    async ({ expect }) => {
      const svc = await createUdpService(cluster, ns, 'to-unready');
      const flow = new UdpFlow(cluster, client, hostPort(svc.clusterIP, svc.port));
      const problems = await readyUnderFlow(cluster, ns, svc, flow, serverNode.name);
      expect(
        problems,
        because(
          'conntrack',
          `pod on ${clientNode.name} → ClusterIP, server on ${serverNode.name}: ${problems.join('; ')}`,
        ),
      ).toEqual([]);
    },
  );

  it.concurrent(
    "a UDP flow to a NodePort moves to the new target port when the Service's targetPort changes",
    async ({ expect, skip }) => {
      skipWithoutNodeAccess(cluster, skip); // only the flow's conntrack entry tells the two ports apart
      const svc = await createUdpService(cluster, ns, 'to-retarget', (s) => {
        s.spec!.type = 'NodePort';
        s.spec!.ports![0].targetPort = FROM_PORT;
      });
      const flow = new UdpFlow(cluster, client, hostPort(serverNode.internalIP, svc.nodePort!));
      const problems = await retargetUnderFlow(cluster, ns, svc, flow, {
        node: serverNode.name,
        from: FROM_PORT,
        to: TO_PORT,
      });
      expect(
        problems,
        because('conntrack', `pod on ${clientNode.name} → ${serverNode.name}'s NodePort: ${problems.join('; ')}`),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'out-of-window TCP packets cannot reset Service connections: every node drops conntrack-INVALID packets or tracks TCP liberally',
    async ({ expect, skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const nodes = await Promise.all(cluster.nodes.map((node) => invalidHandling(cluster, node)));
      const exposed = nodes.flatMap((n) => invalidExposure(n) ?? []);
      expect(
        exposed,
        because(
          'conntrack',
          `nodes where an INVALID packet is neither dropped nor tracked liberally (kube-proxy ${cluster.capabilities.proxyMode}): an out-of-window packet from a backend reaches the client un-NATed and the client resets the connection (kubernetes#74839)`,
        ),
      ).toEqual([]);
    },
  );

  it.concurrent(
    'a Service connection outlives an out-of-window TCP segment its backend sends: the client does not reset it (kubernetes#74839)',
    async ({ expect }) => {
      // The backend needs a raw socket (root, NET_RAW): a namespace of the run that admits it.
      const rawNs = await hostNetworkNamespace(cluster, 'conntrack-raw');
      const server = await deployOutOfWindowServer(cluster, rawNs, 'out-of-window', serverNode.name);
      const reached = await client.dialUntil(server.address, 'ok');
      expect(
        reached.outcome,
        because('conntrack', `${server.address} from pod ${client.name} before the test: ${reached.error ?? ''}`),
      ).toBe('ok');
      const tally = await outOfWindowTries(cluster, client, server.address, OUT_OF_WINDOW_TRIES);
      expect(
        tally.answers,
        because(
          'conntrack',
          `pod on ${clientNode.name} → ClusterIP ${server.address} → backend ${server.pod.ip} on ${serverNode.name}, which sent each connection two segments out of window (upstream's, 100,000 bytes behind; one 2^30 bytes ahead, INVALID on every kernel): ${tally.answers.survived ?? 0}/${OUT_OF_WINDOW_TRIES} survived (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''}); "reset": the segment reached the client un-NATed and it reset the connection: the node neither drops conntrack-INVALID packets nor tracks TCP liberally`,
        ),
      ).toEqual({ survived: OUT_OF_WINDOW_TRIES });
    },
  );

  it.concurrent(
    "a TCP connection left in CLOSE_WAIT keeps kube-proxy's CLOSE_WAIT timeout in conntrack",
    async ({ expect, skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const configured = (await configuredCloseWait(cluster, clientNode)) ?? DEFAULT_CLOSE_WAIT_SECONDS;
      if (configured === 0)
        skip(
          `kube-proxy on ${clientNode.name} is told to leave ${CLOSE_WAIT_SYSCTL} alone (conntrack.tcpCloseWaitTimeout 0s)`,
        );
      const connection = await leaveInCloseWait(cluster, ns, clientNode, serverNode.name);
      const sysctl = (await runOnNode(cluster, clientNode, ['cat', CLOSE_WAIT_SYSCTL])).stdout.trim();
      // Upstream allows a minute for the entry to age between the connection and the reading.
      expect(
        connection.entry.timeout,
        because(
          'conntrack',
          `the CLOSE_WAIT entry on ${clientNode.name} (${connection.line.trim()}) expires in ${connection.entry.timeout} s; kube-proxy's tcpCloseWaitTimeout is ${configured} s, the node's ${CLOSE_WAIT_SYSCTL} ${sysctl}`,
        ),
      ).toBeGreaterThan(configured - 60);
    },
  );
});
