// suites/service-proxy-name.spec.ts — beyond the guide: kube-proxy's opt-out labels
// Proves: kube-proxy leaves alone a Service labelled service.kubernetes.io/service-proxy-name (another proxy's) or
// service.kubernetes.io/headless: no rule on any node names its ClusterIP and it does not answer; putting either label
// on a working Service takes it out of kube-proxy, and taking the label off brings every backend back. Each is asked
// from a pod and from a hostNetwork pod (the node's own traffic, which kube-proxy's output rules handle).
// A failure usually means: kube-proxy does not filter Services by these labels (a proxy built without it, or another
// proxy that programs them), or it missed the label's change (its Service watch is stale).
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { section } from '../helpers/diagnose/sections.js';
import { setServiceLabels } from '../helpers/kube/service-labels.js';
import { probeUntil } from '../helpers/kube/probe-until.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { answered } from '../helpers/workloads/answered.js';
import { waitForReadyBackends, type BackendPod } from '../helpers/workloads/backends.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { hostNetworkNamespace, startHostNetworkClient } from '../helpers/workloads/host-network.js';
import { waitUntilSilent } from '../helpers/workloads/client-waits.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { describeDistribution, roundRobin } from '../helpers/workloads/round-robin.js';
import { rulesMentioning, rulesMentioningSkipReason } from '../helpers/workloads/rules-mentioning.js';
import { applyServiceOver } from '../helpers/workloads/service-over.js';
import { scaleBackends } from '../helpers/workloads/scale.js';
import { hostPort } from '../helpers/address.js';
import type { Cluster } from '../helpers/cluster/cluster.js';

const PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
const HEADLESS = 'service.kubernetes.io/headless';
const OPT_OUT = [PROXY_NAME, HEADLESS];

/** Why rule lines are not read here, if they are not. */
const rulesSkipReason = (cluster: Cluster) => nodeAccessSkipReason(cluster) ?? rulesMentioningSkipReason(cluster);

/** Rule lines naming the address, per node that has any: {} when no node has one (or they cannot be read). */
async function rulesPerNode(cluster: Cluster, address: string): Promise<Record<string, string[]>> {
  if (rulesSkipReason(cluster)) return {};
  const found = await Promise.all(cluster.nodes.map(async (n) => [n.name, await rulesMentioning(cluster, n, address)]));
  return Object.fromEntries(found.filter(([, lines]) => lines.length));
}

/** One evidence line: a Service of the namespace, its opt-out labels, and the rule lines naming its ClusterIP on a node. */
const LINE = /^Service (\S+) \[([^\]]*)\] on (\S+): (\d+) rule lines name /;

const optOut = section("Beyond the guide: kube-proxy's opt-out labels", {
  next: "kube-proxy watches only Services without the service.kubernetes.io/service-proxy-name and service.kubernetes.io/headless labels: for a labelled Service find what programs it (kube-proxy's version and its log, another proxy on the node); for an unlabelled one, check that kube-proxy saw the label go (its log, its last sync)",
  // Every Service of the namespace (the labelled ones are not diagnosed one by one: the guide's tree would take
  // their missing rules for kube-proxy's fault), its opt-out labels, and how many rule lines name its ClusterIP per node.
  evidence: async (cluster, service) => {
    const noRules = rulesSkipReason(cluster);
    if (noRules) return [`rules not read: ${noRules}`];
    const services = (await cluster.kube.core.listNamespacedService({ namespace: service.namespace })).items;
    const lines = await Promise.all(
      services.map(async (svc) => {
        const labels = OPT_OUT.filter((key) => svc.metadata?.labels?.[key] !== undefined).map(
          (key) => `${key}=${svc.metadata!.labels![key]}`,
        );
        const clusterIP = svc.spec?.clusterIP ?? '';
        const rules = await rulesPerNode(cluster, clusterIP);
        return cluster.nodes.map(
          (n) =>
            `Service ${svc.metadata!.name} [${labels.join(', ')}] on ${n.name}: ${rules[n.name]?.length ?? 0} rule lines name ${clusterIP}`,
        );
      }),
    );
    return lines.flat();
  },
  verdict: (evidence, lines) => {
    const seen = lines.flatMap((line) => {
      const m = LINE.exec(line);
      return m ? [{ service: m[1], labels: m[2], node: m[3], rules: Number(m[4]) }] : [];
    });
    const programmed = seen.filter((s) => s.labels && s.rules > 0);
    if (programmed.length)
      return `kube-proxy's rules name the ClusterIP of Services that carry an opt-out label: ${programmed.map((s) => `${evidence.namespace}/${s.service} (${s.labels}) on ${s.node}`).join('; ')}: kube-proxy there does not filter Services by it, or another proxy programs them`;
    const bare = seen.filter((s) => !s.labels && s.rules === 0 && s.service === evidence.service);
    if (bare.length && evidence.slices.some((e) => e.ready))
      return `${bare.map((s) => s.node).join(', ')} ${bare.length > 1 ? 'have' : 'has'} no rule for ${evidence.namespace}/${evidence.service}, which carries no opt-out label and has ready endpoints: kube-proxy there did not take it back when the label went`;
    return undefined;
  },
});

const LABELLED = { [PROXY_NAME]: 'hostnames-proxy-name', [HEADLESS]: 'hostnames-headless-label' };
const TOGGLED = 'hostnames-toggled';
const TRIES = 3;

describe(optOut.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('proxy-name');
  useDiagnosis(ns, 'hostnames', TOGGLED);
  let app: Hostnames, toggled: Addressed, pods: BackendPod[];
  /** A pod, and a hostNetwork pod on the same node: every look is made from both. */
  let clients: ClientPod[];
  const labelled: Record<string, Addressed> = {};
  const over = async (name: string, labels: Record<string, string> = {}) =>
    addressed(
      await applyServiceOver(cluster, ns, name, app.service.spec!.selector!, (s) => {
        s.metadata!.labels = { ...s.metadata!.labels, ...labels };
      }),
    );
  const urlOf = (s: { clusterIP: string; port: number }) => `http://${hostPort(s.clusterIP, s.port)}/`;

  beforeAll(async () => {
    const node = cluster.nodes[0].name;
    let client: ClientPod, hostClient: ClientPod;
    [app, client, hostClient] = await Promise.all([
      deployHostnames(cluster, ns, { replicas: 2 }),
      startClientPod(cluster, ns, { node }),
      hostNetworkNamespace(cluster, 'proxy-name-host').then((hostNs) =>
        startHostNetworkClient(cluster, hostNs, 'host-client', node),
      ),
    ]);
    clients = [client, hostClient];
    for (const [key, name] of Object.entries(LABELLED)) {
      labelled[key] = await over(name, { [key]: key === PROXY_NAME ? 'foo-bar' : '' });
      await waitForReadyBackends(cluster, ns, app.service.spec!.selector!, 2, name);
    }
    // Made after the labelled Services had their endpoints: once kube-proxy has programmed it on every node,
    // it has seen the labelled ones too, with their endpoints, so "no rule for them" is its decision.
    toggled = await over(TOGGLED);
    ({ pods } = await scaleBackends(cluster, app, 2, [toggled.service]));
  });

  for (const [key, value] of [
    [PROXY_NAME, 'foo-bar'],
    [HEADLESS, ''],
  ]) {
    it(`a Service labelled ${key}${value ? `: ${value}` : ''} gets no rule on any node and its ClusterIP does not answer`, async () => {
      const svc = labelled[key];
      const tallies = await Promise.all(clients.map((c) => c.http(urlOf(svc), { count: TRIES, concurrency: TRIES })));
      const rules = await rulesPerNode(cluster, svc.clusterIP);
      const readOrNot = rulesSkipReason(cluster) ?? 'rules read on every node';
      expect(
        { answered: tallies.map((t) => t.ok), rules },
        because(
          optOut,
          `${ns}/${svc.name} (${key}=${value}) at ${urlOf(svc)}: ${tallies.map((t, i) => `${t.ok}/${TRIES} answered ${JSON.stringify(t.answers)} from ${clients[i].name}`).join(', ')}; ${readOrNot}`,
        ),
      ).toEqual({ answered: clients.map(() => 0), rules: {} });
    });
  }

  it(`labelling a working Service ${PROXY_NAME}: foo-bar takes it out of kube-proxy, and removing the label brings every backend back`, async () => {
    const main = { name: app.name, clusterIP: app.clusterIP, port: app.port, service: app.service };
    for (const step of await toggle(main, PROXY_NAME, 'foo-bar'))
      expect(step.got, because(optOut, step.what)).toEqual(step.want);
  });

  it(`labelling a working Service ${HEADLESS} takes it out of kube-proxy, and removing the label brings every backend back`, async () => {
    for (const step of await toggle(toggled, HEADLESS, ''))
      expect(step.got, because(optOut, step.what)).toEqual(step.want);
  });

  /**
   * What was seen at each step, from each client: every backend answers; labelled, nothing answers and no rule
   * names it; unlabelled again, every backend answers, while the Service that keeps the label stays silent.
   */
  async function toggle(svc: Addressed, key: string, value: string): Promise<Step[]> {
    const url = urlOf(svc);
    const want = pods.map((p) => p.name).sort();
    const everyClient = <T>(look: (c: ClientPod) => Promise<T>) => Promise.all(clients.map(look));
    const before = await everyClient((c) => roundRobin(c, url, want));
    await setServiceLabels(cluster.kube, ns, svc.name, { [key]: value });
    const silent = await everyClient((c) => waitUntilSilent(cluster, c, url));
    // Silence is the clients' node's kube-proxy; every other node's removes its rules in its own sync.
    const rules = await probeUntil(
      `no node's rules naming ${svc.clusterIP}`,
      cluster.settings.timeouts.serviceSync,
      () => rulesPerNode(cluster, svc.clusterIP),
      (found) => Object.keys(found).length === 0,
    );
    await setServiceLabels(cluster.kube, ns, svc.name, { [key]: null });
    const back = await scaleBackends(cluster, app, pods.length, [svc.service]);
    const after = await everyClient((c) => roundRobin(c, url, want));
    const still = labelled[key];
    const stillSilent = await everyClient((c) => c.http(urlOf(still), { count: TRIES, concurrency: TRIES }));
    const read = rulesSkipReason(cluster) ?? 'rules read on every node';
    return clients.flatMap((client, i) => [
      {
        what: `${url} from ${client.name} before labelling: ${describeDistribution(before[i])}`,
        got: answered(before[i]),
        want,
      },
      {
        what: `${ns}/${svc.name} labelled ${key}=${value}: ${url} answered ${client.name} ${silent[i].ok}/${silent[i].count} ${JSON.stringify(silent[i].answers)} after ${cluster.settings.timeouts.serviceSync} ms; ${read}`,
        got: { answered: silent[i].ok, rules },
        want: { answered: 0, rules: {} },
      },
      {
        what: `${url} from ${client.name} after the label ${key} was removed: ${describeDistribution(after[i])}${back.unprogrammed ? `; kube-proxy lagged: ${back.unprogrammed}` : ''}`,
        got: [...answered(after[i]), ...(back.unprogrammed ? ['(kube-proxy lagged)'] : [])],
        want,
      },
      {
        what: `${ns}/${still.name}, labelled ${key} all along, asked from ${client.name} after ${svc.name}'s label came off: ${stillSilent[i].ok}/${TRIES} answered ${JSON.stringify(stillSilent[i].answers)}`,
        got: stillSilent[i].ok,
        want: 0,
      },
    ]);
  }
});

/** A Service with its name and the address its checks send to. */
interface Addressed {
  name: string;
  clusterIP: string;
  port: number;
  service: k8s.V1Service;
}

function addressed(service: k8s.V1Service): Addressed {
  return {
    name: service.metadata!.name!,
    clusterIP: service.spec!.clusterIP!,
    port: service.spec!.ports![0].port,
    service,
  };
}

interface Step {
  what: string;
  got: unknown;
  want: unknown;
}
