// suites/load-balancer.spec.ts — beyond the guide: LoadBalancer Services
// Proves: the cluster's LoadBalancer implementation (MetalLB in L2 mode on the clusters we make; yours on your
// cluster) gives a Service an ingress address, which answers the outside client over TCP and UDP on one port and
// pods too; kube-proxy enforces loadBalancerSourceRanges, ClientIP affinity, externalTrafficPolicy Local (source
// kept, health check 200 only where endpoints are) and ipMode; type, port, class and NodePort changes hold; the
// address is released on delete; UDP flows and rolling updates keep answering. No address within the budget: skip.
// A failure usually means: no address (the implementation), no ARP answer (its speaker), or kube-proxy's rules.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostOf, hostPort } from '../helpers/address.js';
import { because } from '../helpers/diagnose/guide.js';
import { hostInRange } from '../helpers/kube/nodes.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { loadBalancerSection as lb } from '../helpers/diagnose/load-balancer.js';
import { externalHttp, externalSkipReason, externalUdp, externalUdpFlow } from '../helpers/node/external-client.js';
import { programmedFrontends } from '../helpers/node/proxy-rules.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import {
  LOOK_REQUESTS,
  describeLook,
  setSessionAffinity,
  spread,
  stickyBackend,
  waitUntilSpread,
  waitUntilSticky,
} from '../helpers/workloads/affinity.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { UdpFlow, cycleUnderFlow } from '../helpers/workloads/conntrack-flows.js';
import { waitForHealthCheck } from '../helpers/workloads/health-check.js';
import {
  createService,
  declareUdpPort,
  deployHostnames,
  netexecTcpAndUdpArgs,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import {
  inRange,
  ingressWithin,
  patchService,
  serviceEvents,
  waitForIngress,
  waitForNoIngress,
  writeIngressStatus,
} from '../helpers/workloads/load-balancer.js';
import { ROLLOUT_FAILED_SHARE, rollOutUnderLoad } from '../helpers/workloads/rollout.js';
import { createUdpService } from '../helpers/workloads/udp-servers.js';

const TRIES = 6;
/** How long a Service of a class nobody serves is watched for an address: MetalLB gives ours one within a second. */
const UNSERVED_WATCH_MS = 10_000;
/** A class no implementation serves: the ipMode checks write such a Service's status themselves. */
const UNSERVED_CLASS = 'svc-conformance.io/nobody';

const asLoadBalancer =
  (extra: Partial<k8s.V1ServiceSpec> = {}) =>
  (s: k8s.V1Service) =>
    Object.assign(s.spec!, { type: 'LoadBalancer', ...extra });
const withUdp = (s: k8s.V1Service) =>
  s.spec!.ports!.push({ name: 'udp', port: s.spec!.ports![0].port, targetPort: 9376, protocol: 'UDP' });

describe(lb.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('lb');
  useDiagnosis(ns, 'lb', 'lb-local');
  const noOutside = externalSkipReason(cluster);
  /** The pool of the implementation our provider installed (MetalLB); absent on your cluster. */
  const ourPool = cluster.external?.loadBalancerIPRange;
  // kind and k3s clusters where setup built no MetalLB are ours too, but have no implementation: waiting out the budget
  // would tell nothing.
  const noImplementation =
    !ourPool && (cluster.provider === 'kind' || cluster.provider === 'k3s')
      ? `the ${cluster.provider} provider installed no LoadBalancer implementation (MetalLB runs on the clusters we make once \`npm run setup\` built it)`
      : undefined;
  const [node1, node2] = cluster.nodes;
  const needsTwo = node2 ? undefined : `needs 2 nodes; this cluster has ${cluster.nodes.length}`;
  let app: Hostnames, local: Hostnames, client: ClientPod;
  /** The first Service's address; undefined (with why) when the implementation gave none within the budget. */
  let address: string | undefined, noAddress: string | undefined;

  /** Skips a check that needs an ingress address when the cluster's implementation gave none. */
  const needAddress = (skip: (why: string) => void) => {
    if (noAddress) skip(noAddress);
  };
  /** A LoadBalancer Service over `over`'s pods, and its address (a failure when the first Service had one). */
  const loadBalancer = async (name: string, over: Hostnames, tweak: (s: k8s.V1Service) => void = asLoadBalancer()) => {
    const made = await createService(cluster, over, name, tweak);
    const got = await waitForIngress(cluster, { namespace: ns, name });
    expect(got.ip, because(lb, `${ns}/${name} got no ingress address: ${got.seen}`)).toBeTruthy();
    return { ...made, ip: got.ip!, service: got.service };
  };
  const url = (ip: string, port: number, path = 'hostname') => `http://${hostPort(ip, port)}/${path}`;
  /** Looks until `done` holds or the Service sync budget is spent; the last look, for the check to judge. */
  const probe = <T>(look: () => Promise<T>, done: (t: T) => boolean): Promise<T> =>
    probeUntil('a look at the LoadBalancer', cluster.settings.timeouts.serviceSync, look, done);

  beforeAll(async () => {
    noAddress = noImplementation;
    if (noAddress) return;
    [app, local, client] = await Promise.all([
      // Two backends on every node (at least four; the spread is even): whichever node announces the address has
      // local endpoints to spread over once affinity is off (eTP Local). Four on three nodes put one on some node,
      // and from there every answer came from that one pod.
      deployHostnames(cluster, ns, {
        name: 'lb',
        replicas: Math.max(4, 2 * cluster.nodes.length),
        args: netexecTcpAndUdpArgs(),
        tweak: {
          deployment: declareUdpPort,
          service: (s) => {
            asLoadBalancer()(s);
            withUdp(s);
          },
        },
      }),
      // One backend, on node 2: externalTrafficPolicy Local has endpoints on one node only.
      deployHostnames(cluster, ns, {
        name: 'lb-local',
        replicas: 1,
        args: netexecTcpAndUdpArgs(),
        tweak: {
          deployment: (d) => void (d.spec!.template.spec!.nodeName = (node2 ?? node1).name),
          service: asLoadBalancer({ externalTrafficPolicy: 'Local' }),
        },
      }),
      startClientPod(cluster, ns, { node: node1.name }),
    ]);
    const got = await waitForIngress(cluster, { namespace: ns, name: 'lb' });
    address = got.ip;
    if (!address)
      noAddress = `no LoadBalancer implementation gave ${ns}/lb an address within ${cluster.settings.timeouts.loadBalancer} ms (${got.seen})`;
  });

  it('gives the Service an address from its pool, which answers the outside client over TCP and UDP on one port', async ({
    skip,
  }) => {
    // On a cluster we made, MetalLB is ours: no address is a failure (here; the other checks skip). On yours, a skip.
    if (noAddress && !ourPool) skip(noAddress);
    expect(address, because(lb, noAddress ?? '')).toBeDefined();
    if (noOutside) skip(noOutside);
    expect(
      !ourPool || inRange(address!, ourPool),
      because(lb, `ingress ${address} is not in the provider's pool ${ourPool}`),
    ).toBe(true);
    const [tcp, udp] = await Promise.all([
      externalHttp(cluster, url(address!, app.port), TRIES),
      externalUdp(cluster, hostPort(address!, app.port), TRIES),
    ]);
    const backends = app.pods.map((p) => p.name);
    for (const [proto, tally] of [
      ['TCP', tcp],
      ['UDP', udp],
    ] as const) {
      expect(
        tally.ok,
        because(
          lb,
          `${proto} ${address}:${app.port} from outside: ${describeLook(tally)} ${await serviceEvents(cluster, { namespace: ns, name: 'lb' })}`,
        ),
      ).toBe(TRIES);
      expect(
        Object.keys(tally.answers).filter((a) => !backends.includes(a)),
        because(lb, `${proto} answers from pods that are not backends: ${JSON.stringify(tally.answers)}`),
      ).toEqual([]);
    }
  });

  it('one port over TCP and UDP: both answer a pod on the ClusterIP and on the LoadBalancer IP', async ({ skip }) => {
    needAddress(skip);
    for (const ip of [app.clusterIP, address!]) {
      const [tcp, udp] = await Promise.all([
        client.http(url(ip, app.port), { count: TRIES, concurrency: TRIES }),
        client.udp(hostPort(ip, app.port), { count: TRIES }),
      ]);
      expect(tcp.ok, because(lb, `TCP ${ip}:${app.port} from pod ${client.name}: ${describeLook(tcp)}`)).toBe(TRIES);
      expect(udp.ok, because(lb, `UDP ${ip}:${app.port} from pod ${client.name}: ${describeLook(udp)}`)).toBe(TRIES);
    }
  });

  it('kube-proxy writes a rule for the LoadBalancer IP on every node', async ({ skip }) => {
    needAddress(skip);
    const noAccess = nodeAccessSkipReason(cluster);
    if (noAccess) skip(noAccess);
    for (const n of cluster.nodes) {
      const frontends = await programmedFrontends(cluster, n, {
        namespace: ns,
        name: 'lb',
        portName: 'default',
        protocol: 'tcp',
      });
      if (!frontends) skip(`no rule parser for kube-proxy mode ${cluster.capabilities.proxyMode}`);
      expect(
        frontends!.loadBalancerIPs.map((f) => hostPort(f.ip, f.port ?? '?')),
        because(lb, `rules for ${address} on ${n.name}`),
      ).toContain(hostPort(address!, app.port));
    }
  });

  it.concurrent('loadBalancerSourceRanges: only the listed sources reach the address', async ({ skip }) => {
    needAddress(skip);
    if (noOutside) skip(noOutside);
    const outside = `${cluster.external!.address}/32`;
    const svc = await loadBalancer('lb-ranges', app, asLoadBalancer({ loadBalancerSourceRanges: [outside] }));
    const target = url(svc.ip, svc.port);
    const fromOutside = () => externalHttp(cluster, target, 3);
    const fromPod = () => client.http(target, { count: 3, concurrency: 3 });
    const until = (look: () => Promise<{ ok: number }>, answered: boolean) =>
      probe(look, (t) => (answered ? t.ok === 3 : t.ok === 0));
    let [out, pod] = await Promise.all([until(fromOutside, true), until(fromPod, false)]);
    expect(out.ok, because(lb, `ranges [${outside}]: the outside client got ${JSON.stringify(out)}`)).toBe(3);
    expect(pod.ok, because(lb, `ranges [${outside}]: pod ${client.ip} (not listed) got answers`)).toBe(0);
    await patchService(
      cluster,
      { namespace: ns, name: 'lb-ranges' },
      { loadBalancerSourceRanges: [`${client.ip}/32`] },
    );
    [out, pod] = await Promise.all([until(fromOutside, false), until(fromPod, true)]);
    expect(pod.ok, because(lb, `ranges [${client.ip}/32]: pod ${client.ip} got ${JSON.stringify(pod)}`)).toBe(3);
    expect(out.ok, because(lb, `ranges [${client.ip}/32]: the outside client (not listed) got answers`)).toBe(0);
  });

  for (const policy of ['Cluster', 'Local'] as const) {
    it.concurrent(
      `ClientIP affinity with externalTrafficPolicy ${policy}: sticky, spread once switched off, sticky again`,
      async ({ skip }) => {
        needAddress(skip);
        if (noOutside) skip(noOutside);
        const name = `lb-affinity-${policy.toLowerCase()}`;
        const svc = await loadBalancer(
          name,
          app,
          asLoadBalancer({ externalTrafficPolicy: policy, sessionAffinity: 'ClientIP' }),
        );
        const look = async () => [await externalHttp(cluster, url(svc.ip, svc.port), LOOK_REQUESTS)];
        const what = `${ns}/${name} (${svc.ip}) from outside`;
        let tallies = await waitUntilSticky(cluster, what, look);
        expect(
          tallies.every((t) => stickyBackend(t)),
          because(lb, `${what}: ${tallies.map(describeLook).join('; ')}`),
        ).toBe(true);
        await setSessionAffinity(cluster, { namespace: ns, name }, 'None');
        tallies = await waitUntilSpread(cluster, what, look);
        expect(
          tallies.every(spread),
          because(lb, `${what} with affinity None: ${tallies.map(describeLook).join('; ')}`),
        ).toBe(true);
        await setSessionAffinity(cluster, { namespace: ns, name }, 'ClientIP');
        tallies = await waitUntilSticky(cluster, what, look);
        expect(
          tallies.every((t) => stickyBackend(t)),
          because(lb, `${what} with ClientIP again: ${tallies.map(describeLook).join('; ')}`),
        ).toBe(true);
      },
    );
  }

  it('externalTrafficPolicy Local keeps the outside client address', async ({ skip }) => {
    needAddress(skip);
    if (noOutside) skip(noOutside);
    const got = await waitForIngress(cluster, { namespace: ns, name: 'lb-local' });
    expect(got.ip, because(lb, `${ns}/lb-local got no address: ${got.seen}`)).toBeTruthy();
    const tally = await externalHttp(cluster, url(got.ip!, local.port, 'clientip'), TRIES);
    const sources = [...new Set(Object.keys(tally.answers).map(hostOf))];
    expect(tally.ok, because(lb, `${got.ip} from outside: ${describeLook(tally)}`)).toBe(TRIES);
    expect(
      sources,
      because(lb, `the backend saw ${sources.join(', ')}; the client is ${cluster.external!.address}`),
    ).toEqual([cluster.external!.address]);
  });

  it('externalTrafficPolicy Local: the health-check NodePort answers 200 only on the node with the endpoint', async ({
    skip,
  }) => {
    needAddress(skip);
    if (needsTwo) skip(needsTwo);
    const port = local.service.spec!.healthCheckNodePort!;
    for (const [n, answer] of [
      [node2, '200'],
      [node1, '503'],
    ] as const) {
      const reading = await waitForHealthCheck(cluster, client, n.internalIP, port, answer);
      expect(reading.answer, because(lb, `health check on ${n.name}: ${reading.detail}`)).toBe(answer);
    }
  });

  it('externalTrafficPolicy Local: every node with endpoints passes the health check', async ({ skip }) => {
    needAddress(skip);
    if (needsTwo) skip(needsTwo);
    const svc = await loadBalancer('lb-local-all', app, asLoadBalancer({ externalTrafficPolicy: 'Local' }));
    const nodes = new Set(app.pods.map((p) => p.node));
    for (const n of cluster.nodes.filter((c) => nodes.has(c.name))) {
      const reading = await waitForHealthCheck(
        cluster,
        client,
        n.internalIP,
        svc.service.spec!.healthCheckNodePort!,
        '200',
      );
      expect(reading.answer, because(lb, `health check on ${n.name} (has endpoints): ${reading.detail}`)).toBe('200');
    }
  });

  it('externalTrafficPolicy Local: a pod on a node without an endpoint reaches the address, keeping its own IP', async ({
    skip,
  }) => {
    needAddress(skip);
    if (needsTwo) skip(needsTwo);
    const got = await waitForIngress(cluster, { namespace: ns, name: 'lb-local' });
    const tally = await client.http(url(got.ip!, local.port, 'clientip'), { count: TRIES, concurrency: TRIES });
    const sources = [...new Set(Object.keys(tally.answers).map(hostOf))];
    expect(tally.ok, because(lb, `${got.ip} from pod ${client.name} on ${client.node}: ${describeLook(tally)}`)).toBe(
      TRIES,
    );
    expect(sources, because(lb, `the backend saw ${sources.join(', ')}; the pod is ${client.ip}`)).toEqual([client.ip]);
  });

  it.concurrent('a loadBalancerClass no implementation serves gets no address', async ({ skip }) => {
    needAddress(skip);
    await createService(cluster, app, 'lb-class', asLoadBalancer({ loadBalancerClass: UNSERVED_CLASS }));
    const ip = await ingressWithin(cluster, { namespace: ns, name: 'lb-class' }, UNSERVED_WATCH_MS);
    expect(ip, because(lb, `${ns}/lb-class (class ${UNSERVED_CLASS}) was given ${ip}`)).toBeUndefined();
  });

  /** Two Services of a class nobody serves, whose status this spec writes as an implementation would: ipMode VIP and Proxy. */
  let ipModes: Promise<{ vip: string; proxy: string }> | undefined;
  const withIpModes = (pool: string) =>
    (ipModes ??= (async () => {
      const [vip, proxy] = [hostInRange(pool, 250)!, hostInRange(pool, 251)!];
      for (const [name, ip, ipMode] of [
        ['lb-ipmode-vip', vip, 'VIP'],
        ['lb-ipmode-proxy', proxy, 'Proxy'],
      ]) {
        await createService(cluster, app, name, asLoadBalancer({ loadBalancerClass: UNSERVED_CLASS }));
        await writeIngressStatus(cluster, { namespace: ns, name }, [{ ip, ipMode }]);
      }
      return { vip, proxy };
    })());
  /** Addresses for the ipMode Services come from our own pool; on your cluster they could be someone's. */
  const ipModePool = (skip: (why: string) => void) => {
    const pool = cluster.external?.loadBalancerIPRange;
    if (!pool) skip('the cluster has no LoadBalancer range of ours to take two unassigned addresses from');
    return pool!;
  };

  it.concurrent(
    'ipMode VIP: a pod reaches the address through kube-proxy, and ipMode Proxy: it does not',
    async ({ skip }) => {
      needAddress(skip);
      const { vip, proxy } = await withIpModes(ipModePool(skip));
      const answeredVip = await probe(
        () => client.http(url(vip, app.port), { count: 3, concurrency: 3 }),
        (t) => t.ok === 3,
      );
      expect(
        answeredVip.ok,
        because(lb, `ipMode VIP ${vip} from pod ${client.name}: ${describeLook(answeredVip)}`),
      ).toBe(3);
      // Proxy: the pod's packet leaves its node for the load balancer (here the fabric, which refuses it).
      const answeredProxy = await client.http(url(proxy, app.port), { count: 3, concurrency: 3 });
      expect(
        answeredProxy.ok,
        because(lb, `ipMode Proxy ${proxy} answered pod ${client.name}: kube-proxy short-circuited it`),
      ).toBe(0);
    },
  );

  it.concurrent(
    'ipMode Proxy: kube-proxy writes no rule for the address on any node; ipMode VIP: on every node',
    async ({ skip }) => {
      needAddress(skip);
      const noAccess = nodeAccessSkipReason(cluster);
      if (noAccess) skip(noAccess);
      const { vip, proxy } = await withIpModes(ipModePool(skip));
      for (const n of cluster.nodes) {
        const rules = async (name: string) =>
          (
            await programmedFrontends(cluster, n, { namespace: ns, name, portName: 'default', protocol: 'tcp' })
          )?.loadBalancerIPs.map((f) => f.ip) ?? [];
        const [vipRules, proxyRules] = await Promise.all([
          probe(
            () => rules('lb-ipmode-vip'),
            (r) => r.includes(vip),
          ),
          rules('lb-ipmode-proxy'),
        ]);
        expect(vipRules, because(lb, `rules for ipMode VIP ${vip} on ${n.name}`)).toContain(vip);
        expect(proxyRules, because(lb, `rules for ipMode Proxy ${proxy} on ${n.name}`)).not.toContain(proxy);
      }
    },
  );

  it.concurrent('releases the address when the Service is deleted, and a new Service can take it', async ({ skip }) => {
    needAddress(skip);
    if (noOutside) skip(noOutside);
    // From our pool, an address far above where the allocator hands out the next one: a Service another check
    // makes meanwhile cannot take it between the release and the new request (seen on a loaded flannel run).
    const asked = ourPool ? hostInRange(ourPool, 240) : undefined;
    const svc = await loadBalancer('lb-released', app, asLoadBalancer(asked ? { loadBalancerIP: asked } : {}));
    await cluster.kube.core.deleteNamespacedService({ namespace: ns, name: 'lb-released' });
    const gone = await probe(
      () =>
        cluster.kube.core.readNamespacedService({ namespace: ns, name: 'lb-released' }).then(
          () => false,
          () => true,
        ),
      (g) => g,
    );
    expect(gone, because(lb, `${ns}/lb-released still exists after delete (a finalizer left on it?)`)).toBe(true);
    const after = await probe(
      () => externalHttp(cluster, url(svc.ip, svc.port), 2),
      (t) => t.ok === 0,
    );
    expect(after.ok, because(lb, `${svc.ip} still answers after its Service was deleted`)).toBe(0);
    await createService(cluster, app, 'lb-retaken', asLoadBalancer({ loadBalancerIP: svc.ip }));
    const retaken = await waitForIngress(cluster, { namespace: ns, name: 'lb-retaken' });
    expect(retaken.ip, because(lb, `a new Service asking for ${svc.ip} got ${retaken.seen}`)).toBe(svc.ip);
  });

  it.concurrent(
    'allocateLoadBalancerNodePorts false: no NodePort, answers on the address; NodePorts once set true',
    async ({ skip }) => {
      needAddress(skip);
      if (noOutside) skip(noOutside);
      const svc = await loadBalancer('lb-no-nodeports', app, asLoadBalancer({ allocateLoadBalancerNodePorts: false }));
      expect(svc.service.spec!.ports![0].nodePort, because(lb, 'a NodePort was allocated')).toBeUndefined();
      const tally = await probe(
        () => externalHttp(cluster, url(svc.ip, svc.port), 3),
        (t) => t.ok === 3,
      );
      expect(tally.ok, because(lb, `${svc.ip} from outside: ${describeLook(tally)}`)).toBe(3);
      const changed = await patchService(
        cluster,
        { namespace: ns, name: 'lb-no-nodeports' },
        { allocateLoadBalancerNodePorts: true },
      );
      const nodePort = changed.spec!.ports![0].nodePort;
      expect(nodePort, because(lb, 'allocateLoadBalancerNodePorts true allocated no NodePort')).toBeGreaterThan(0);
      const viaNode = await probe(
        () => externalHttp(cluster, url(node1.internalIP, nodePort!), 3),
        (t) => t.ok === 3,
      );
      expect(
        viaNode.ok,
        because(lb, `NodePort ${node1.internalIP}:${nodePort} from outside: ${describeLook(viaNode)}`),
      ).toBe(3);
    },
  );

  for (const protocol of ['TCP', 'UDP'] as const) {
    it.concurrent(
      `type and port changes over ${protocol}: ClusterIP → NodePort → LoadBalancer → new port and NodePort → ClusterIP`,
      async ({ skip }) => {
        needAddress(skip);
        if (noOutside) skip(noOutside);
        const name = `lb-change-${protocol.toLowerCase()}`;
        const ref = { namespace: ns, name };
        const ask = (ip: string, port: number) =>
          protocol === 'TCP' ? externalHttp(cluster, url(ip, port), 3) : externalUdp(cluster, hostPort(ip, port), 3);
        const answers = (ip: string, port: number) =>
          probe(
            () => ask(ip, port),
            (t) => t.ok === 3,
          );
        const silent = (ip: string, port: number) =>
          probe(
            () => ask(ip, port),
            (t) => t.ok === 0,
          );
        await createService(cluster, app, name, (s) => void (s.spec!.ports![0].protocol = protocol));
        const asNodePort = await patchService(cluster, ref, { type: 'NodePort' });
        const nodePort = asNodePort.spec!.ports![0].nodePort!;
        let t = await answers(node1.internalIP, nodePort);
        expect(t.ok, because(lb, `${protocol} NodePort ${nodePort} from outside: ${describeLook(t)}`)).toBe(3);
        await patchService(cluster, ref, { type: 'LoadBalancer' });
        const got = await waitForIngress(cluster, ref);
        expect(got.ip, because(lb, `${name} changed to LoadBalancer got no address: ${got.seen}`)).toBeTruthy();
        t = await answers(got.ip!, 80);
        expect(t.ok, because(lb, `${protocol} ${got.ip}:80 from outside: ${describeLook(t)}`)).toBe(3);
        // A new Service port and a new NodePort at once (the next one up; the API refuses one in use).
        const newNodePort = nodePort < 32767 ? nodePort + 1 : nodePort - 1;
        const ports = got.service.spec!.ports!.map((p) => ({ ...p, port: 81, nodePort: newNodePort }));
        await patchService(cluster, ref, { ports });
        t = await answers(got.ip!, 81);
        expect(t.ok, because(lb, `${protocol} ${got.ip}:81 (the new port) from outside: ${describeLook(t)}`)).toBe(3);
        t = await answers(node1.internalIP, newNodePort);
        expect(
          t.ok,
          because(lb, `${protocol} NodePort ${newNodePort} (the new one) from outside: ${describeLook(t)}`),
        ).toBe(3);
        t = await silent(got.ip!, 80);
        expect(t.ok, because(lb, `${protocol} ${got.ip}:80 (the old port) still answers`)).toBe(0);
        t = await silent(node1.internalIP, nodePort);
        expect(t.ok, because(lb, `${protocol} NodePort ${nodePort} (the old one) still answers`)).toBe(0);
        await patchService(cluster, ref, { type: 'ClusterIP', ports: ports.map((p) => ({ ...p, nodePort: null })) });
        const back = await waitForNoIngress(cluster, ref);
        expect(
          back.status?.loadBalancer?.ingress ?? [],
          because(lb, `${name} back to ClusterIP kept its ingress`),
        ).toEqual([]);
        t = await silent(got.ip!, 81);
        expect(
          t.ok,
          because(lb, `${protocol} ${got.ip}:81 still answers after the Service went back to ClusterIP`),
        ).toBe(0);
      },
    );
  }

  for (const where of ['the same node', 'different nodes'] as const) {
    it.concurrent(
      `a UDP flow from outside moves to the new server pod when the old one is deleted (servers on ${where})`,
      async ({ skip }) => {
        needAddress(skip);
        if (noOutside) skip(noOutside);
        if (where === 'different nodes' && needsTwo) skip(needsTwo);
        const name = where === 'the same node' ? 'lb-udp-same' : 'lb-udp-apart';
        const svc = await createUdpService(cluster, ns, name, asLoadBalancer());
        const got = await waitForIngress(cluster, { namespace: ns, name });
        expect(got.ip, because(lb, `${ns}/${name} got no address: ${got.seen}`)).toBeTruthy();
        const flow = new UdpFlow(
          cluster,
          { udpFlow: (target, options) => externalUdpFlow(cluster, target, options) },
          hostPort(got.ip!, svc.port),
        );
        const problems = await cycleUnderFlow(cluster, ns, svc, flow, {
          node: node1.name,
          secondNode: where === 'different nodes' ? node2.name : undefined,
        });
        expect(problems, because(lb, problems.join('; '))).toEqual([]);
      },
    );
  }

  for (const policy of ['Cluster', 'Local'] as const) {
    // Upstream's test passes at 95% answered and names 99% its goal: we ask the goal. A backend
    // dropped late, or a connection cut at its SIGTERM, fails far more than 1% of the requests.
    it(`99% of requests answer during a rolling update, externalTrafficPolicy ${policy}`, async ({ skip }) => {
      needAddress(skip);
      if (noOutside) skip(noOutside);
      const result = await rollOutUnderLoad(cluster, ns, `lb-roll-${policy.toLowerCase()}`, policy);
      expect(result.answered, because(lb, result.story)).toBeGreaterThan(0);
      const failedShare = result.failed / (result.answered + result.failed);
      expect(failedShare, because(lb, result.story)).toBeLessThanOrEqual(ROLLOUT_FAILED_SHARE);
    });
  }
});
