// suites/external-name.spec.ts — beyond the guide: ExternalName
// Proves: an ExternalName Service `hostnames-alias` pointing at hostnames.<ns>.svc.<domain> (an in-cluster
// name: never an outside host) answers a CNAME to it, resolves through it to the hostnames ClusterIP, and
// an HTTP client that dials the alias reaches the backends. Its name follows changes in place over UDP and TCP: a
// new externalName answers the new CNAME, and a change to type ClusterIP answers an A record of the new ClusterIP. Services change type in place: ExternalName to
// ClusterIP and to NodePort (the new ClusterIP and every node's NodePort answer from every backend), ClusterIP and
// NodePort to ExternalName (the ClusterIP and NodePort are given up and stop answering; the name answers a CNAME).
// A failure usually means: CoreDNS's kubernetes plugin does not serve ExternalName records, or kube-proxy does not
// follow a Service whose type changed (no rules for the new address, or rules left for the old one).
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod, type LookupResult } from '../helpers/workloads/client-pod.js';
import type * as k8s from '@kubernetes/client-node';
import { hostPort } from '../helpers/address.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { waitFor } from '../helpers/kube/wait.js';
import { changeServiceType, createExternalName } from '../helpers/workloads/external-name.js';
import {
  createService,
  deployHostnames,
  SERVICE_PORT,
  serviceFor,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { waitUntilEveryBackendAnswers } from '../helpers/workloads/recovery.js';
import { describeDistribution } from '../helpers/workloads/round-robin.js';
import { answerLine, cnameLine, eachOverUdpAndTcp, overUdpAndTcp } from '../helpers/workloads/dns-answers.js';

const ALIAS = 'hostnames-alias';
/** How long CoreDNS may answer from its cache after a change: its records' TTL and cache limit (30 s, ours and kubeadm's). */
const DNS_CACHE_MS = 30_000;

describe('Beyond the guide: ExternalName', () => {
  const cluster = useCluster();
  const ns = useNamespace('extname');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod, target: string;

  beforeAll(async () => {
    [app, client] = await Promise.all([deployHostnames(cluster, ns), startClientPod(cluster, ns)]);
    target = `${app.name}.${ns}.svc.${cluster.domain}`;
    await createExternalName(cluster, ns, ALIAS, target);
  });

  /**
   * CoreDNS learns of a new Service through its watch, a moment after the API server has it; a name asked
   * for before that is answered NXDOMAIN, and the answer is cached for its TTL. So the alias is asked until
   * it gives what `done` wants, within the sync budget and that TTL, and the last answer is judged.
   */
  const resolveAlias = (cname: boolean, done: (r: LookupResult) => boolean) =>
    probeUntil(
      `CoreDNS serving ${ALIAS}`,
      cluster.settings.timeouts.serviceSync + DNS_CACHE_MS,
      () => client.resolve(ALIAS, { cname }),
      done,
      (r) => `${r.outcome} ${r.cname ?? r.addrs?.join(',') ?? ''} ${r.error ?? ''}`,
    );

  it('answers a CNAME to the in-cluster target name', async () => {
    const result = await resolveAlias(true, (r) => r.cname === `${target}.`);
    expect(
      result.cname,
      because('externalName', `CNAME of "${ALIAS}" from pod ${client.name}: ${result.outcome} ${result.error ?? ''}`),
    ).toBe(`${target}.`);
  });

  it("resolves through the CNAME to the target Service's ClusterIP", async () => {
    const result = await resolveAlias(false, (r) => r.addrs?.join() === app.clusterIP);
    expect(
      result.addrs,
      because('externalName', `"${ALIAS}" → ${target}: ${result.outcome} ${result.error ?? ''}`),
    ).toEqual([app.clusterIP]);
  });

  it('carries HTTP through the alias to the backends', async () => {
    const url = `http://${ALIAS}:${app.port}/`;
    const tally = await client.http(url, { count: 6 });
    expect(
      tally.ok,
      because(
        'externalName',
        `${url}: ${tally.ok}/6 answered (${JSON.stringify(tally.errors)} ${tally.sampleError ?? ''})`,
      ),
    ).toBe(6);
    const backends = (await app.backendsNow()).map((p) => p.name);
    expect(
      Object.keys(tally.answers).every((a) => backends.includes(a)),
      because('externalName', `answers ${JSON.stringify(tally.answers)}`),
    ).toBe(true);
  });

  /** What the client does not get from every backend at the URL within the sync budget ('' when it does). */
  const unanswered = async (url: string) => {
    const expected = (await app.backendsNow()).map((p) => p.name);
    const rr = await waitUntilEveryBackendAnswers(client, url, expected, cluster.settings.timeouts.serviceSync);
    return rr.missing.length || rr.unexpected.length ? `${url}: ${describeDistribution(rr)}` : '';
  };
  /** The address still connecting after the sync budget ('' once nothing answers there). */
  const stillAnswering = async (address: string) =>
    waitFor(
      `${address} no longer answering from pod ${client.name}`,
      cluster.settings.timeouts.serviceSync,
      async () => {
        const dial = await client.dial(address);
        return { done: dial.outcome !== 'ok', seen: `${dial.outcome} ${dial.error ?? ''}`, value: '' };
      },
    ).catch(() => `${address} still connects`);
  // The guide's Service shape (serviceFor): the hostnames Service's own selector and ports.
  const toHostnames = (spec: k8s.V1ServiceSpec) => {
    delete spec.externalName;
    const guide = serviceFor(cluster, ns, app.name, app.service.spec!.selector!).spec!;
    Object.assign(spec, { selector: guide.selector, ports: guide.ports });
  };
  const toAlias = (spec: k8s.V1ServiceSpec) => {
    spec.externalName = target;
    delete spec.selector;
  };
  const cnameOf = async (name: string) => (await client.resolve(name, { cname: true })).cname;
  const makeService = async (name: string, type: 'ClusterIP' | 'NodePort') =>
    (await createService(cluster, app, name, (s) => void (s.spec!.type = type))).service;

  it('answers the new CNAME when its externalName changes in place, and an A record of its ClusterIP once changed to type ClusterIP, over UDP and over TCP', async () => {
    // Two Services changed at once, neither asked of CoreDNS before its change: an answer asked before would
    // stay in CoreDNS's cache for its TTL (DNS_CACHE_MS), and the check would wait that out.
    const renamed = 'ext-renamed';
    const toClusterIP = 'ext-to-a-record';
    const second = `kubernetes.default.svc.${cluster.domain}`;
    const made = await Promise.all([renamed, toClusterIP].map((name) => createExternalName(cluster, ns, name, target)));
    const changed = await Promise.all([
      changeServiceType(cluster, ns, renamed, 'ExternalName', (spec) => void (spec.externalName = second)),
      changeServiceType(cluster, ns, toClusterIP, 'ClusterIP', toHostnames),
    ]);
    const want = [
      ...eachOverUdpAndTcp([renamed], () => `${second}.`),
      ...eachOverUdpAndTcp([toClusterIP], () => changed[1].spec!.clusterIP!),
    ];
    // CoreDNS follows the change within the sync budget; an answer it gave in between may be cached for its TTL.
    let after: string[] = [];
    await waitFor(
      `CoreDNS answering ${renamed} → ${second} and ${toClusterIP}'s ClusterIP`,
      cluster.settings.timeouts.serviceSync + DNS_CACHE_MS,
      async () => {
        after = [
          ...(await overUdpAndTcp(client, [renamed], cnameLine)),
          ...(await overUdpAndTcp(client, [toClusterIP], answerLine)),
        ];
        return { done: after.join() === want.join(), seen: after.join('; ') };
      },
    ).catch(() => undefined); // the expectation names what was answered last
    expect(
      { sameObjects: changed.map((s, i) => s.metadata!.uid === made[i].metadata!.uid), answers: after },
      because(
        'externalName',
        `${renamed} after its externalName changed from ${target} to ${second}, and ${toClusterIP} after ExternalName → ClusterIP, within ${cluster.settings.timeouts.serviceSync + DNS_CACHE_MS} ms`,
      ),
    ).toEqual({ sameObjects: [true, true], answers: want });
  });

  it('changed in place from ExternalName to ClusterIP, gets a ClusterIP that answers from every backend', async () => {
    await createExternalName(cluster, ns, 'ext-to-cluster-ip', target);
    const changed = await changeServiceType(cluster, ns, 'ext-to-cluster-ip', 'ClusterIP', toHostnames);
    const ip = changed.spec?.clusterIP;
    expect(ip, because('externalName', 'the ClusterIP of ext-to-cluster-ip after the change')).toMatch(/^[0-9a-f.:]+$/);
    expect(
      await unanswered(`http://${hostPort(ip!, SERVICE_PORT)}/`),
      because('externalName', 'ext-to-cluster-ip after ExternalName → ClusterIP'),
    ).toBe('');
  });

  it("changed in place from ExternalName to NodePort, its ClusterIP and every node's NodePort answer from every backend", async () => {
    await createExternalName(cluster, ns, 'ext-to-node-port', target);
    const changed = await changeServiceType(cluster, ns, 'ext-to-node-port', 'NodePort', toHostnames);
    const nodePort = changed.spec?.ports?.[0]?.nodePort;
    expect(nodePort, because('externalName', 'the NodePort of ext-to-node-port after the change')).toBeGreaterThan(0);
    const urls = [changed.spec!.clusterIP!, ...cluster.nodes.map((n) => n.internalIP)].map((ip, i) =>
      i === 0 ? `http://${hostPort(ip, SERVICE_PORT)}/` : `http://${hostPort(ip, nodePort!)}/`,
    );
    const problems = [];
    for (const url of urls) problems.push(await unanswered(url));
    expect(problems.filter(Boolean), because('externalName', 'ext-to-node-port after ExternalName → NodePort')).toEqual(
      [],
    );
  });

  it('changed in place from ClusterIP to ExternalName, gives its ClusterIP up (it stops answering) and answers the CNAME', async () => {
    const made = await makeService('cluster-ip-to-ext', 'ClusterIP');
    const old = hostPort(made.spec!.clusterIP!, SERVICE_PORT);
    expect(await unanswered(`http://${old}/`), because('externalName', 'cluster-ip-to-ext before the change')).toBe('');
    const changed = await changeServiceType(cluster, ns, 'cluster-ip-to-ext', 'ExternalName', toAlias);
    expect(
      {
        clusterIP: changed.spec?.clusterIP ?? '',
        cname: await cnameOf('cluster-ip-to-ext'),
        old: await stillAnswering(old),
      },
      because('externalName', `cluster-ip-to-ext after ClusterIP → ExternalName (its ClusterIP was ${old})`),
    ).toEqual({ clusterIP: '', cname: `${target}.`, old: '' });
  });

  it('changed in place from NodePort to ExternalName, gives its NodePort up (nothing answers on it) and answers the CNAME', async () => {
    const made = await makeService('node-port-to-ext', 'NodePort');
    const node = cluster.nodes[0];
    const old = hostPort(node.internalIP, made.spec!.ports![0].nodePort!);
    expect(await unanswered(`http://${old}/`), because('externalName', 'node-port-to-ext before the change')).toBe('');
    const changed = await changeServiceType(cluster, ns, 'node-port-to-ext', 'ExternalName', toAlias);
    expect(
      {
        nodePorts: (changed.spec?.ports ?? []).map((p) => p.nodePort).filter(Boolean),
        cname: await cnameOf('node-port-to-ext'),
        old: await stillAnswering(old),
      },
      because(
        'externalName',
        `node-port-to-ext after NodePort → ExternalName (its NodePort was ${old} on ${node.name})`,
      ),
    ).toEqual({ nodePorts: [], cname: `${target}.`, old: '' });
  });
});
