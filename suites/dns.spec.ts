// suites/dns.spec.ts — guide: "Does the Service work by DNS name?" and "Does any Service work by DNS name?"
// Proves: pods resolve the Service by short, namespaced and FQDN names, its named port's SRV record and its
// ClusterIP's PTR record, over UDP and TCP; resolv.conf is what kubelet should write.
// A failure usually means: CoreDNS down, kubelet --cluster-dns wrong, or search/ndots changed.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { parseResolvConf } from '../helpers/parse/resolv-conf.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { startClientPod, type ClientPod } from '../helpers/workloads/client-pod.js';
import { deployHostnames, type Hostnames } from '../helpers/workloads/hostnames.js';
import { nodeLookup } from '../helpers/node/node-probe.js';
import { skipWithoutNodeAccess } from '../helpers/node/run-on-node.js';
import { answerLine, eachOverUdpAndTcp, overUdpAndTcp, ptrLine, srvLine } from '../helpers/workloads/dns-answers.js';

/**
 * A client pod in a namespace of its own, which both sections only ask names of: the first
 * section's client from another namespace, and the second's (any Service, from any pod).
 * Started by whichever section runs first, together with the first section's pods (a pod
 * start is this file's longest wait).
 */
let otherClient: Promise<ClientPod> | undefined;
const startOtherClient = (cluster: ReturnType<typeof useCluster>) =>
  (otherClient ??= cluster.namespace('dns-other').then((ns) => startClientPod(cluster, ns)));

describe('Does the Service work by DNS name?', () => {
  const cluster = useCluster();
  const ns = useNamespace('dns');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames, client: ClientPod, other: ClientPod;

  beforeAll(async () => {
    [app, client, other] = await Promise.all([
      deployHostnames(cluster, ns, { programmed: false }), // DNS answers from the API, not from the rules
      startClientPod(cluster, ns),
      startOtherClient(cluster),
    ]);
  });

  it('resolves the short name from the same namespace', async () => {
    expect(await client.lookup('hostnames'), because('dns', 'short name "hostnames"')).toEqual([app.clusterIP]);
  });

  it('resolves the namespaced name from another namespace', async () => {
    expect(
      await other.lookup(`hostnames.${ns}`),
      because('dns', `hostnames.${ns} from namespace ${other.namespace}`),
    ).toEqual([app.clusterIP]);
  });

  it('resolves the fully qualified name from another namespace', async () => {
    const fqdn = `hostnames.${ns}.svc.${cluster.domain}`;
    expect(await other.lookup(fqdn), because('dns', fqdn)).toEqual([app.clusterIP]);
  });

  it('resolves the short, namespaced, svc and fully qualified names over TCP as well as over UDP', async () => {
    const names = ['hostnames', `hostnames.${ns}`, `hostnames.${ns}.svc`, `hostnames.${ns}.svc.${cluster.domain}`];
    const answers = await Promise.all(
      names.flatMap((name) => [false, true].map((tcp) => answerLine(client, name, tcp))),
    );
    expect(answers, because('dns', `each name over UDP and TCP from pod ${client.name}`)).toEqual(
      names.flatMap((name) => [`${name} udp ${app.clusterIP}`, `${name} tcp ${app.clusterIP}`]),
    );
  });

  it('answers the SRV record of its named port by the partial and the full name (_default._tcp.hostnames.<ns>.svc) over UDP and over TCP: the Service name and port', async () => {
    const port = app.service.spec!.ports![0];
    const srv = `_${port.name}._${port.protocol!.toLowerCase()}.hostnames.${ns}.svc`;
    const names = [srv, `${srv}.${cluster.domain}`];
    const want = `hostnames.${ns}.svc.${cluster.domain}.:${port.port}`;
    expect(
      await overUdpAndTcp(client, names, srvLine),
      because('dns', `SRV of port "${port.name}" over UDP and TCP from pod ${client.name}`),
    ).toEqual(eachOverUdpAndTcp(names, () => want));
  });

  it("answers the PTR record of its ClusterIP over UDP and over TCP: the Service's fully qualified name", async () => {
    const want = `hostnames.${ns}.svc.${cluster.domain}.`;
    expect(
      await overUdpAndTcp(other, [app.clusterIP], ptrLine),
      because('dns', `PTR of ${app.clusterIP} from pod ${other.name} in another namespace`),
    ).toEqual(eachOverUdpAndTcp([app.clusterIP], () => want));
  });

  it("writes the pod's resolv.conf with the cluster DNS, the search path and ndots:5", async () => {
    const conf = parseResolvConf(await client.readFile('/etc/resolv.conf'));
    const what = `/etc/resolv.conf of pod ${client.name}`;
    expect(conf.nameservers, because('dns', `${what}: nameserver`)).toEqual([cluster.capabilities.dnsIP]);
    expect(conf.search.slice(0, 3), because('dns', `${what}: search`)).toEqual([
      `${ns}.svc.${cluster.domain}`,
      `svc.${cluster.domain}`,
      cluster.domain,
    ]);
    expect(conf.options.ndots, because('dns', `${what}: options ndots`)).toBe('5');
  });

  it('resolves the fully qualified name from a node, against the DNS Service IP', async ({ skip }) => {
    skipWithoutNodeAccess(cluster, skip);
    const fqdn = `hostnames.${ns}.svc.${cluster.domain}`;
    const answer = await nodeLookup(cluster, cluster.nodes[0], fqdn, cluster.capabilities.dnsIP);
    expect(
      answer.addrs,
      because(
        'dns',
        `${fqdn} asked of ${cluster.capabilities.dnsIP} from node ${cluster.nodes[0].name}: ${answer.outcome}`,
      ),
    ).toEqual([app.clusterIP]);
  });
});

describe('Does any Service work by DNS name?', () => {
  const cluster = useCluster();
  let client: ClientPod;

  beforeAll(async () => {
    client = await startOtherClient(cluster);
  });

  it('resolves kubernetes.default to the kubernetes Service ClusterIP', async () => {
    const svc = await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    expect(await client.lookup('kubernetes.default'), because('anyDns', 'kubernetes.default')).toEqual([
      svc.spec!.clusterIP,
    ]);
  });

  it('resolves the partial names kubernetes.default and kubernetes.default.svc, and the full name, through the search path over UDP and over TCP', async () => {
    const svc = await cluster.kube.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    const names = ['kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${cluster.domain}`];
    const answers = await Promise.all(
      names.flatMap((name) => [false, true].map((tcp) => answerLine(client, name, tcp))),
    );
    expect(answers, because('anyDns', `each name over UDP and TCP from pod ${client.name}`)).toEqual(
      names.flatMap((name) => [`${name} udp ${svc.spec!.clusterIP}`, `${name} tcp ${svc.spec!.clusterIP}`]),
    );
  });

  it("resolves a pod's own A record (its IP, dashed, under <namespace>.pod) over UDP and over TCP", async () => {
    const name = `${client.ip.replaceAll('.', '-')}.${client.namespace}.pod.${cluster.domain}`;
    const answers = await Promise.all([false, true].map((tcp) => answerLine(client, name, tcp)));
    expect(answers, because('anyDns', `the pod record of ${client.name}`)).toEqual([
      `${name} udp ${client.ip}`,
      `${name} tcp ${client.ip}`,
    ]);
  });

  it('answers NXDOMAIN for a name outside the cluster (nothing is forwarded off the machine)', async () => {
    const answer = await client.resolve('svc-conformance-no-such-host.example.');
    expect(answer.outcome, because('anyDns', 'a name outside the cluster')).toBe('nxdomain');
  });
});
