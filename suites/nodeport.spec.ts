// suites/nodeport.spec.ts — beyond the guide: NodePort
// Proves: a NodePort Service answers on every node's address — from outside the cluster, from every node and
// from a pod; kube-proxy holds the port on every node (KUBE-NODEPORTS, or nft's service-nodeports map); with
// externalTrafficPolicy: Cluster the backend sees the receiving node's address as the source (SNAT), not the client's.
// The API server refuses a NodePort another Service holds (until that one gives it up) and one outside its range.
// A failure usually means: kube-proxy's NodePort rules are missing on a node (or --nodeport-addresses leaves
// its address out), or the masquerade for external traffic is gone.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiErrorLine } from '../helpers/cluster/attach.js';
import { because } from '../helpers/diagnose/guide.js';
import { nodeAddresses } from '../helpers/kube/nodes.js';
import { externalHttp, externalSkipReason } from '../helpers/node/external-client.js';
import { nodeHttp } from '../helpers/node/node-probe.js';
import { programmedFrontends } from '../helpers/node/proxy-rules.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, netexecArgs, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostOf, hostPort } from '../helpers/address.js';
import { runLabels } from '../helpers/workloads/labels.js';

const TRIES = 6;
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
  const names = async () => (await app.backendsNow()).map((p) => p.name);

  beforeAll(async () => {
    [app, client] = await Promise.all([
      deployHostnames(cluster, ns, {
        args: netexecArgs(),
        tweak: { service: (s) => void (s.spec!.type = 'NodePort') },
      }),
      startClientPod(cluster, ns, { node: cluster.nodes[0].name }),
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

    it(`answers on ${node.name}'s address from every node`, async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const url = `http://${hostPort(node.internalIP, nodePort)}/hostname`;
      const backends = await names();
      for (const from of cluster.nodes) {
        const tally = await nodeHttp(cluster, from, url, TRIES);
        expect(
          tally.ok,
          because(
            'nodePort',
            `${url} from node ${from.name}: ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
          ),
        ).toBe(TRIES);
        expect(
          Object.keys(tally.answers).filter((a) => !backends.includes(a)),
          because('nodePort', `answers from node ${from.name} by pods that are not backends`),
        ).toEqual([]);
      }
    });

    it(`answers on ${node.name}'s address from a pod`, async () => {
      const url = `http://${hostPort(node.internalIP, nodePort)}/hostname`;
      const tally = await client.http(url, { count: TRIES });
      expect(
        tally.ok,
        because(
          'nodePort',
          `${url} from pod ${client.name} on ${client.node}: ${tally.ok}/${TRIES} answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
        ),
      ).toBe(TRIES);
      const backends = await names();
      expect(
        Object.keys(tally.answers).filter((a) => !backends.includes(a)),
        because('nodePort', `answers from pod ${client.name} by pods that are not backends`),
      ).toEqual([]);
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
