// suites/pod-dns.spec.ts — beyond the guide: a pod's own DNS settings (dnsPolicy and dnsConfig)
// Proves: kubelet writes a pod's resolv.conf from dnsPolicy None and its dnsConfig (nameservers, searches, options)
// and the pod resolves through them: through the cluster DNS with a search path of its own, and through a DNS
// server pod of the spec's own (a CoreDNS serving one zone); dnsConfig merges into a ClusterFirst pod's
// resolv.conf with more than 6 search paths, over 256 characters, one with an underscore and one a single dot,
// and cluster names still resolve; a hostNetwork pod with dnsPolicy ClusterFirstWithHostNet gets the cluster DNS
// and resolves partial Service names (A, SRV) and a ClusterIP's PTR through it over UDP and TCP.
// A failure usually means: kubelet drops or truncates dnsConfig (an old search-path limit), or rejects a search
// path the API accepts; or a resolver in the pod gives up on a long search list.
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { section } from '../helpers/diagnose/sections.js';
import { because } from '../helpers/diagnose/guide.js';
import { parseResolvConf } from '../helpers/parse/resolv-conf.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import type { BackendPod } from '../helpers/workloads/backends.js';
import { runLabels } from '../helpers/workloads/labels.js';
import { waitForServerPod } from '../helpers/workloads/server-pods.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from '../helpers/workloads/security.js';
import { waitForReadyBackends } from '../helpers/workloads/backends.js';
import { answerLine, eachOverUdpAndTcp, overUdpAndTcp, ptrLine, srvLine } from '../helpers/workloads/dns-answers.js';
import { hostNetworkNamespace } from '../helpers/workloads/host-network.js';

const podDns = section('Beyond the guide: pod DNS settings', {
  next: "compare the pod's /etc/resolv.conf with its spec.dnsPolicy and spec.dnsConfig (kubectl get pod -o yaml), read kubelet's log for a DNSConfigForming event, and ask the nameserver it lists directly",
});

/** The zone the spec's own DNS server answers, and the one name in it (upstream's test search path). */
const OWN_ZONE = 'resolv.conf.local';
const OWN_NAME = 'notexistname';
/** What that server answers for it: an address nothing dials (RFC 5737's documentation range). */
const OWN_ANSWER = '192.0.2.53';
/** Upstream's long search paths: six of 38 digits under k8s.io, 260 characters together. */
const LONG_SEARCHES = [1, 2, 3, 4, 5, 6].map((n) => `${String(n).padStart(38, '0')}.k8s.io`);
const ODD_SEARCHES = ['_sip._tcp.abc_d.example.com', '.'];
/** A Service that exists only to be resolved (no selector, no pods). */
const TARGET = 'dns-target';
/**
 * Upstream's Services for the hostNetwork pod, in its own namespace (Pod Security there admits hostNetwork):
 * a headless and a ClusterIP Service, each with a port named http, both selecting that pod itself.
 */
const HOST_HEADLESS = 'dns-test-service';
const HOST_REGULAR = 'test-service-2';
const HOST_SELECTOR = { 'dns-test': 'true' };

describe(podDns.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('pod-dns');
  useDiagnosis(ns, TARGET);
  const domain = cluster.domain;
  let target: k8s.V1Service;
  let server: BackendPod;
  let none: ClientPod, own: ClientPod, merged: ClientPod, host: ClientPod;
  let hostNs: string, regular: k8s.V1Service;

  beforeAll(async () => {
    const [made] = await cluster.kube.apply<k8s.V1Service>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: TARGET, namespace: ns, labels: runLabels(cluster.runId) },
      spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    target = made;
    const dnsIP = cluster.capabilities.dnsIP;
    [none, merged, server, host] = await Promise.all([
      startClientPod(cluster, ns, {
        name: 'policy-none',
        tweak: (pod) => {
          pod.spec!.dnsPolicy = 'None';
          pod.spec!.dnsConfig = {
            nameservers: [dnsIP],
            searches: [`${ns}.svc.${domain}`],
            options: [{ name: 'ndots', value: '2' }],
          };
        },
      }),
      startClientPod(cluster, ns, {
        name: 'merged',
        tweak: (pod) => {
          pod.spec!.dnsPolicy = 'ClusterFirst';
          pod.spec!.dnsConfig = {
            searches: [...LONG_SEARCHES, ...ODD_SEARCHES],
            options: [{ name: 'ndots', value: '5' }, { name: 'edns0' }],
          };
        },
      }),
      startOwnDnsServer(),
      startHostNetworkPod(),
    ]);
    own = await startClientPod(cluster, ns, {
      name: 'own-server',
      tweak: (pod) => {
        pod.spec!.dnsPolicy = 'None';
        pod.spec!.dnsConfig = {
          nameservers: [server.ip],
          searches: [OWN_ZONE],
          options: [{ name: 'ndots', value: '2' }],
        };
      },
    });
  });

  /**
   * A hostNetwork client with dnsPolicy ClusterFirstWithHostNet, and upstream's two Services selecting it, waited
   * for until their EndpointSlices list it (the DNS records of the headless Service come from them).
   */
  async function startHostNetworkPod(): Promise<ClientPod> {
    hostNs = await hostNetworkNamespace(cluster, 'pod-dns-host');
    const service = (name: string, headless: boolean): k8s.V1Service => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: hostNs, labels: runLabels(cluster.runId) },
      spec: {
        ...(headless ? { clusterIP: 'None' } : {}),
        selector: HOST_SELECTOR,
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    });
    [, regular] = await cluster.kube.apply<k8s.V1Service>(service(HOST_HEADLESS, true), service(HOST_REGULAR, false));
    const pod = await startClientPod(cluster, hostNs, {
      name: 'host-network',
      labels: HOST_SELECTOR,
      tweak: (p) => {
        p.spec!.hostNetwork = true;
        p.spec!.dnsPolicy = 'ClusterFirstWithHostNet';
      },
    });
    await Promise.all(
      [HOST_HEADLESS, HOST_REGULAR].map((name) => waitForReadyBackends(cluster, hostNs, HOST_SELECTOR, 1, name)),
    );
    return pod;
  }

  /** A CoreDNS of the spec's own on port 53 (unprivileged ports start at 53 in its pod), answering OWN_ZONE only. */
  async function startOwnDnsServer(): Promise<BackendPod> {
    const corefile = `${OWN_ZONE}:53 {\n  errors\n  hosts {\n    ${OWN_ANSWER} ${OWN_NAME}.${OWN_ZONE}\n  }\n}\n`;
    await cluster.kube.apply<k8s.KubernetesObject>(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'own-dns', namespace: ns, labels: runLabels(cluster.runId) },
        data: { Corefile: corefile },
      } as k8s.V1ConfigMap,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'own-dns', namespace: ns, labels: runLabels(cluster.runId, { app: 'own-dns' }) },
        spec: {
          terminationGracePeriodSeconds: 1,
          securityContext: {
            ...RESTRICTED_POD,
            sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '53' }],
          },
          containers: [
            {
              name: 'coredns',
              image: cluster.settings.images.coredns,
              imagePullPolicy: 'IfNotPresent',
              securityContext: RESTRICTED_CONTAINER,
              args: ['-conf', '/etc/coredns/Corefile'],
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns' }],
              readinessProbe: { tcpSocket: { port: 53 }, periodSeconds: 1 },
            },
          ],
          volumes: [{ name: 'config', configMap: { name: 'own-dns' } }],
        },
      } as k8s.V1Pod,
    );
    return waitForServerPod(cluster, ns, 'own-dns');
  }

  const resolvConf = async (client: ClientPod) => parseResolvConf(await client.readFile('/etc/resolv.conf'));

  it("writes dnsPolicy None's nameservers, searches and options, and nothing else, into the pod's resolv.conf, and resolves a short name through its search path", async () => {
    const conf = await resolvConf(none);
    expect(
      { nameservers: conf.nameservers, search: conf.search, options: conf.options },
      because(podDns, `resolv.conf of ${none.name} (dnsPolicy None)`),
    ).toEqual({ nameservers: [cluster.capabilities.dnsIP], search: [`${ns}.svc.${domain}`], options: { ndots: '2' } });
    const answer = await none.resolve(TARGET);
    expect(
      answer.addrs,
      because(podDns, `"${TARGET}" through the search path ${ns}.svc.${domain}: ${answer.outcome}`),
    ).toEqual([target.spec!.clusterIP]);
  });

  it("resolves through a nameserver of the pod's own dnsConfig: a name of that server's zone, by the search path given", async () => {
    const conf = await resolvConf(own);
    expect(
      { nameservers: conf.nameservers, search: conf.search, options: conf.options },
      because(podDns, `resolv.conf of ${own.name}`),
    ).toEqual({ nameservers: [server.ip], search: [OWN_ZONE], options: { ndots: '2' } });
    const answer = await own.resolve(OWN_NAME);
    expect(
      answer.addrs,
      because(
        podDns,
        `"${OWN_NAME}" through ${OWN_ZONE} from the server pod ${server.ip}: ${answer.outcome} ${answer.error ?? ''}`,
      ),
    ).toEqual([OWN_ANSWER]);
  });

  it('merges dnsConfig into a ClusterFirst pod: more than 6 search paths over 256 characters, one with an underscore and a single dot, and cluster names still resolve', async () => {
    const conf = await resolvConf(merged);
    const clusterSearches = [`${ns}.svc.${domain}`, `svc.${domain}`, domain];
    expect(
      { nameservers: conf.nameservers, search: conf.search, options: conf.options },
      because(podDns, `resolv.conf of ${merged.name} (ClusterFirst with dnsConfig)`),
    ).toEqual({
      nameservers: [cluster.capabilities.dnsIP],
      search: [...clusterSearches, ...LONG_SEARCHES, ...ODD_SEARCHES],
      options: { ndots: '5', edns0: true },
    });
    const api = await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    const names = ['kubernetes.default', 'kubernetes.default.svc', TARGET];
    const answers = await Promise.all(names.map(async (name) => ({ ...(await merged.resolve(name)), name })));
    expect(
      answers.map((a) => `${a.name} ${[...(a.addrs ?? [])].join(',') || a.outcome}`),
      because(
        podDns,
        `names resolved from ${merged.name} with ${conf.search.length} search paths (${conf.search.join(' ').length} characters)`,
      ),
    ).toEqual([
      `kubernetes.default ${api.spec!.clusterIP}`,
      `kubernetes.default.svc ${api.spec!.clusterIP}`,
      `${TARGET} ${target.spec!.clusterIP}`,
    ]);
  });

  it("gives a hostNetwork pod with dnsPolicy ClusterFirstWithHostNet the cluster DNS, through which it resolves partial names of a headless and a ClusterIP Service (A, SRV of the named port) and the ClusterIP's PTR over UDP and over TCP", async () => {
    const conf = await resolvConf(host);
    expect(
      { nameservers: conf.nameservers, search: conf.search.slice(0, 3) },
      because(podDns, `resolv.conf of hostNetwork pod ${host.name} on ${host.node} (ClusterFirstWithHostNet)`),
    ).toEqual({
      nameservers: [cluster.capabilities.dnsIP],
      search: [`${hostNs}.svc.${domain}`, `svc.${domain}`, domain],
    });
    const names = [HOST_HEADLESS, `${HOST_HEADLESS}.${hostNs}`, `${HOST_HEADLESS}.${hostNs}.svc`];
    const srvNames = [HOST_HEADLESS, HOST_REGULAR].map((svc) => `_http._tcp.${svc}.${hostNs}.svc`);
    const clusterIP = regular.spec!.clusterIP!;
    const answers = [
      ...(await overUdpAndTcp(host, names, answerLine)),
      ...(await overUdpAndTcp(host, srvNames, srvLine)),
      ...(await overUdpAndTcp(host, [clusterIP], ptrLine)),
    ];
    // The headless Service's one endpoint is the pod itself, at its node's address (named dashed, having no hostname).
    const dashed = `${host.ip.replaceAll('.', '-').replaceAll(':', '-')}.${HOST_HEADLESS}.${hostNs}.svc.${domain}.:80`;
    expect(
      answers,
      because(podDns, `names asked from hostNetwork pod ${host.name} (${host.ip}) on ${host.node}`),
    ).toEqual([
      ...eachOverUdpAndTcp(names, () => host.ip),
      ...eachOverUdpAndTcp(srvNames.slice(0, 1), () => dashed),
      ...eachOverUdpAndTcp(srvNames.slice(1), () => `${HOST_REGULAR}.${hostNs}.svc.${domain}.:80`),
      ...eachOverUdpAndTcp([clusterIP], () => `${HOST_REGULAR}.${hostNs}.svc.${domain}.`),
    ]);
  });
});
