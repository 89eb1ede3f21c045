import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubeProxyNftFrontends, kubeProxyNftRules, nftTables } from './nft.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const recorded = () =>
  JSON.parse(fixture('nft-ruleset.hostnames.json')) as { nftables: Record<string, Record<string, unknown>>[] };
const hostnames = { namespace: 'default', name: 'hostnames', portName: 'default' };
const endpoint = (hash: string, ip: string) => `endpoint-${hash}-default/hostnames/tcp/default__${ip}/9376`;

describe('nftTables', () => {
  it('lists every table of the recorded ruleset by family and name', () => {
    expect(nftTables(recorded())).toEqual([
      { family: 'ip6', name: 'mangle' },
      { family: 'ip', name: 'mangle' },
      { family: 'ip', name: 'filter' },
      { family: 'ip6', name: 'nat' },
      { family: 'ip6', name: 'filter' },
      { family: 'ip', name: 'nat' },
      { family: 'ip', name: 'kube-proxy' },
      { family: 'ip6', name: 'kube-proxy' },
    ]);
  });

  it('returns [] for anything that is not a ruleset', () => {
    for (const notRuleset of [undefined, null, '', {}, { nftables: 'x' }, { nftables: [null, 1, { table: 'x' }] }]) {
      expect(nftTables(notRuleset)).toEqual([]);
    }
  });
});

describe('kubeProxyNftRules', () => {
  it('follows default/hostnames from the service-ips map to its three endpoint chains', () => {
    expect(kubeProxyNftRules(recorded(), hostnames)).toEqual({
      clusterIP: '10.96.63.2',
      port: 80,
      protocol: 'tcp',
      serviceChain: 'service-PM2QQW4D-default/hostnames/tcp/default',
      mapEntry: true,
      endpoints: [
        { chain: endpoint('F52Q5GX5', '10.244.1.3'), destination: '10.244.1.3:9376', masqueradesSelf: true },
        { chain: endpoint('RQTNF6XE', '10.244.1.4'), destination: '10.244.1.4:9376', masqueradesSelf: true },
        { chain: endpoint('NMQUVV5K', '10.244.1.5'), destination: '10.244.1.5:9376', masqueradesSelf: true },
      ],
      numgenMod: 3,
    });
  });

  it('picks the port by name and protocol, or the first when they are not given', () => {
    const dns = { namespace: 'kube-system', name: 'kube-dns' };
    expect(kubeProxyNftRules(recorded(), { ...dns, portName: 'dns', protocol: 'UDP' })).toMatchObject({
      clusterIP: '10.96.0.10',
      port: 53,
      protocol: 'udp',
      serviceChain: 'service-FY5PMXPG-kube-system/kube-dns/udp/dns',
      numgenMod: 1,
      endpoints: [
        {
          chain: 'endpoint-TF6S6XX7-kube-system/kube-dns/udp/dns__10.244.1.2/53',
          destination: '10.244.1.2:53',
          masqueradesSelf: true,
        },
      ],
    });
    expect(kubeProxyNftRules(recorded(), { ...dns, protocol: 'tcp', portName: 'metrics' })).toMatchObject({
      port: 9153,
    });
    expect(kubeProxyNftRules(recorded(), dns)?.serviceChain).toBe('service-NWBZK7IH-kube-system/kube-dns/tcp/dns-tcp');
    expect(kubeProxyNftRules(recorded(), { namespace: 'default', name: 'hostnames' })?.port).toBe(80);
  });

  it('returns undefined for a Service, port or protocol that is not there, or no ruleset', () => {
    expect(kubeProxyNftRules(recorded(), { namespace: 'default', name: 'nosuch' })).toBeUndefined();
    expect(kubeProxyNftRules(recorded(), { ...hostnames, portName: 'http' })).toBeUndefined();
    expect(kubeProxyNftRules(recorded(), { ...hostnames, portName: '' })).toBeUndefined();
    expect(kubeProxyNftRules(recorded(), { ...hostnames, protocol: 'udp' })).toBeUndefined();
    expect(kubeProxyNftRules(undefined, hostnames)).toBeUndefined();
    expect(kubeProxyNftRules({ nftables: [] }, hostnames)).toBeUndefined();
  });

  // The cases below are the recording with pieces taken out, to show what each absence reads as.
  it('without the service-ips map: no map entry, cluster IP from the chain, no port', () => {
    const ruleset = recorded();
    ruleset.nftables = ruleset.nftables.filter((item) => item.map?.name !== 'service-ips');
    expect(kubeProxyNftRules(ruleset, hostnames)).toMatchObject({
      clusterIP: '10.96.63.2',
      port: undefined,
      protocol: 'tcp',
      mapEntry: false,
      numgenMod: 3,
    });
  });

  it('without the hairpin rules: endpoints that do not masquerade themselves', () => {
    const ruleset = recorded();
    const hairpin = (rule: Record<string, unknown> | undefined) =>
      String(rule?.chain).startsWith('endpoint-') && JSON.stringify(rule?.expr).includes('mark-for-masquerade');
    ruleset.nftables = ruleset.nftables.filter((item) => !hairpin(item.rule));
    const rules = kubeProxyNftRules(ruleset, hostnames);
    expect(rules?.endpoints.map((e) => [e.destination, e.masqueradesSelf])).toEqual([
      ['10.244.1.3:9376', false],
      ['10.244.1.4:9376', false],
      ['10.244.1.5:9376', false],
    ]);
  });

  it('without any rules: the chain alone, no endpoints', () => {
    const ruleset = recorded();
    ruleset.nftables = ruleset.nftables.filter((item) => !item.rule);
    expect(kubeProxyNftRules(ruleset, hostnames)).toEqual({
      clusterIP: '10.96.63.2',
      port: 80,
      protocol: 'tcp',
      serviceChain: 'service-PM2QQW4D-default/hostnames/tcp/default',
      mapEntry: true,
      endpoints: [],
      numgenMod: undefined,
    });
  });

  it('reads map elements wrapped as {elem: {val}} (elements with a comment or timeout)', () => {
    const ruleset = recorded();
    const map = ruleset.nftables.find((item) => item.map?.name === 'service-ips' && item.map.family === 'ip')?.map;
    if (!map) throw new Error('fixture has no ip service-ips map');
    map.elem = (map.elem as [unknown, unknown][]).map(([key, verdict]) => [
      { elem: { val: key, comment: 'x' } },
      verdict,
    ]);
    expect(kubeProxyNftRules(ruleset, hostnames)).toMatchObject({ clusterIP: '10.96.63.2', port: 80, mapEntry: true });
  });
});

describe('kubeProxyNftFrontends (recorded: NodePort 30080 + externalIP 10.251.1.10, and a Local NodePort 30081)', () => {
  const ruleset = JSON.parse(fixture('nft-ruleset.nodeport.json')) as unknown;

  it('reads the NodePort and externalIP of a Cluster-policy Service, and that it masquerades', () => {
    const frontends = kubeProxyNftFrontends(ruleset, {
      namespace: 'fixture',
      name: 'hostnames',
      portName: 'http',
      protocol: 'tcp',
    });
    const chain = 'external-CLYLHIEH-fixture/hostnames/tcp/http';
    expect(frontends.nodePorts).toEqual([{ port: 30080, protocol: 'tcp', chain }]);
    expect(frontends.externalIPs).toEqual([{ ip: '10.251.1.10', port: 80, chain }]);
    expect(frontends.masqueradesExternal).toBe(true);
  });

  it('sees that externalTrafficPolicy: Local masquerades only local traffic', () => {
    const frontends = kubeProxyNftFrontends(ruleset, { namespace: 'fixture', name: 'local', portName: 'http' });
    expect(frontends.nodePorts.map((p) => p.port)).toEqual([30081]);
    expect(frontends.externalIPs).toEqual([]);
    expect(frontends.masqueradesExternal).toBe(false);
  });

  it('finds nothing for a ClusterIP-only Service', () => {
    expect(kubeProxyNftFrontends(recorded(), hostnames)).toEqual({
      nodePorts: [],
      externalIPs: [],
      loadBalancerIPs: [],
      masqueradesExternal: false,
      externalChain: undefined,
      dropsWithoutLocalEndpoints: false,
    });
  });
});

describe('kubeProxyNftRules with sessionAffinity: ClientIP (recorded)', () => {
  const ruleset = JSON.parse(fixture('nft-ruleset.affinity.json')) as unknown;

  it('reads the affinity sets timeout and still one endpoint per pod', () => {
    const rules = kubeProxyNftRules(ruleset, { namespace: 'fixture', name: 'sticky', portName: 'http' });
    expect(rules!.affinitySeconds).toBe(10800);
    expect(rules!.endpoints.map((e) => e.destination).sort()).toEqual(['10.246.1.3:9376', '10.246.1.4:9376']);
  });

  it('has no affinity timeout for a Service without affinity', () => {
    expect(kubeProxyNftRules(recorded(), hostnames)!.affinitySeconds).toBeUndefined();
  });
});

describe('kubeProxyNftFrontends on LoadBalancer Services', () => {
  const ruleset = JSON.parse(fixture('nft-ruleset.load-balancer.json')) as unknown;

  it('finds the LoadBalancer IP in service-ips, going to the external chain (with source ranges too)', () => {
    for (const [name, ip] of [
      ['lb', '10.247.0.1'],
      ['lb-ranges', '10.247.0.2'],
    ]) {
      const frontends = kubeProxyNftFrontends(ruleset, { namespace: 'fixture', name, portName: 'http' });
      expect(frontends.loadBalancerIPs).toEqual([
        { ip, port: 80, chain: expect.stringMatching(/^external-/) as string },
      ]);
      expect(frontends.masqueradesExternal).toBe(true);
    }
  });
});

describe('kubeProxyNftRules on a dual-stack Service (a chain in table ip and in table ip6)', () => {
  const ruleset = JSON.parse(fixture('nft-ruleset.dual-stack.json')) as unknown;
  const service = { namespace: 'kube-system', name: 'dual-fixture', portName: 'dns-tcp', protocol: 'tcp' };

  it("reads the family asked for: each family's ClusterIP and endpoint", () => {
    expect(kubeProxyNftRules(ruleset, { ...service, family: 'ip' })).toMatchObject({
      clusterIP: '10.114.171.85',
      endpoints: [{ destination: '10.226.1.2:53' }],
    });
    expect(kubeProxyNftRules(ruleset, { ...service, family: 'ip6' })).toMatchObject({
      clusterIP: 'fd00:10:114::1da1',
      endpoints: [{ destination: '[fd00:10:226:1::2]:53' }],
    });
  });
});
