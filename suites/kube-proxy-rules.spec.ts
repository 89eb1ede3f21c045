// suites/kube-proxy-rules.spec.ts — guide: "Is kube-proxy writing iptables rules?" (and its IPVS / nftables twins)
// Proves: on every node, kube-proxy wrote the Service's rules: one KUBE-SERVICES jump, a KUBE-SVC chain, one
// KUBE-SEP per endpoint with DNAT to podIP:9376 and the hairpin masquerade mark, probabilities 1/3, 1/2, rest;
// in nftables mode the service-ips map entry, the numgen vmap and the endpoint chains; modes not in use are skipped.
// A failure usually means: kube-proxy is not running or not syncing, or its rules were flushed on that node.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { ipvsServiceProblems } from '../helpers/node/ipvs-service.js';
import { ipvsadmOnNode, iptablesRulesOnNode, nftRulesOnNode } from '../helpers/node/proxy-rules.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import { deployHostnames, HOSTNAMES_PORT, type Hostnames } from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';

const MASQ_MARK = '0x4000/0x4000';

describe('Is kube-proxy writing iptables rules?', () => {
  const cluster = useCluster();
  const noAccess = nodeAccessSkipReason(cluster);
  skipAllWith(noAccess);
  const ns = useNamespace('rules');
  useDiagnosis(ns, 'hostnames');
  const mode = cluster.capabilities.proxyMode;
  let app: Hostnames;
  const service = () => ({ namespace: ns, name: 'hostnames', portName: 'default' });
  const destinations = async () => (await app.backendsNow()).map((p) => hostPort(p.ip, HOSTNAMES_PORT)).sort();

  beforeAll(async () => {
    if (noAccess) return;
    app = await deployHostnames(cluster, ns);
  });

  for (const node of cluster.nodes) {
    it(`iptables mode: writes the Service's chains on ${node.name}`, async ({ skip }) => {
      if (mode !== 'iptables') skip(`kube-proxy mode is ${mode}, not iptables`);
      const rules = await iptablesRulesOnNode(cluster, node, service());
      const where = `iptables on ${node.name}`;
      expect(rules, because('rules', `${where}: no rules mention ${ns}/hostnames:default`)).toBeDefined();
      expect(
        rules!.serviceJumps.length,
        because('rules', `${where}: KUBE-SERVICES jumps for ${app.clusterIP}:80`),
      ).toBe(1);
      expect(rules!.clusterIP).toBe(app.clusterIP);
      expect(rules!.svcChain, because('rules', `${where}: KUBE-SVC chain`)).toMatch(/^KUBE-SVC-/);
      expect(
        rules!.endpoints.map((e) => e.destination).sort(),
        because('rules', `${where}: KUBE-SEP DNAT targets`),
      ).toEqual(await destinations());
      expect(
        rules!.endpoints.every((e) => e.masqueradesSelf),
        because('rules', `${where}: each KUBE-SEP marks its own pod's traffic for masquerade (hairpin)`),
      ).toBe(true);
      expect(rules!.masqueradeMark, because('rules', `${where}: KUBE-MARK-MASQ mark`)).toBe(MASQ_MARK);
      // 1/n, 1/(n-1), … for all but the last endpoint, which takes the rest (no statistic match).
      const n = rules!.endpoints.length;
      const sixPlaces = (p: number | undefined) => (p === undefined ? undefined : p.toFixed(6));
      expect(
        rules!.endpoints.map((e) => sixPlaces(e.probability)),
        because('rules', `${where}: statistic probabilities of the ${n} endpoints`),
      ).toEqual(rules!.endpoints.map((_, i) => sixPlaces(i === n - 1 ? undefined : 1 / (n - i))));
    });

    it(`nftables mode: writes the Service's map entry and chains on ${node.name}`, async ({ skip }) => {
      if (mode !== 'nftables') skip(`kube-proxy mode is ${mode}, not nftables`);
      const rules = await nftRulesOnNode(cluster, node, { ...service(), protocol: 'tcp' });
      const where = `nft table ip kube-proxy on ${node.name}`;
      expect(rules, because('rules', `${where}: no service chain for ${ns}/hostnames/tcp/default`)).toBeDefined();
      expect(rules!.mapEntry, because('rules', `${where}: service-ips element ${app.clusterIP} . tcp . 80`)).toBe(true);
      expect(rules!.clusterIP).toBe(app.clusterIP);
      const expected = await destinations();
      expect(rules!.numgenMod, because('rules', `${where}: numgen random mod N over the endpoints`)).toBe(
        expected.length,
      );
      expect(
        rules!.endpoints.map((e) => e.destination).sort(),
        because('rules', `${where}: endpoint dnat targets`),
      ).toEqual(expected);
      expect(
        rules!.endpoints.every((e) => e.masqueradesSelf),
        because('rules', `${where}: each endpoint chain marks its own pod's traffic for masquerade`),
      ).toBe(true);
    });

    it(`ipvs mode: has one virtual server with a real server per endpoint on ${node.name}`, async ({ skip }) => {
      if (mode !== 'ipvs')
        skip(
          `kube-proxy mode is ${mode}, not ipvs${cluster.provider === 'local' ? ' (this kernel has no IP_VS)' : ''}`,
        );
      // The assertion is ipvsServiceProblems, which helpers/node/ipvs-service.test.ts runs on ipvsadm output.
      const problems = ipvsServiceProblems(
        await ipvsadmOnNode(cluster, node),
        { protocol: 'TCP', clusterIP: app.clusterIP, port: app.port },
        await destinations(),
      );
      expect(problems, because('rules', `ipvsadm -Ln on ${node.name}: ${problems.join('; ')}`)).toEqual([]);
    });
  }
});
