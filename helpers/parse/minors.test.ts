// The same Service recorded on every Kubernetes minor the local provider runs (setup --kubernetes):
// kube-proxy's rules for fixture/hostnames must read the same way on each, in both modes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeProxyIptablesRules, parseIptablesSave } from './iptables-save.js';
import { kubeProxyNftRules } from './nft.js';
import { iptablesProxyIndex, nftProxyIndex } from './proxy-index.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const hostnames = { namespace: 'fixture', name: 'hostnames', portName: 'default' };
const ENDPOINTS = ['10.236.1.3:9376', '10.236.1.4:9376', '10.236.1.5:9376'];

/** Per minor and mode: the ClusterIP the recording's Service had (fixtures/README.md). */
const RECORDED = [
  { minor: 'v1.33', iptables: '10.116.19.91', nftables: '10.116.232.192' },
  { minor: 'v1.34', iptables: '10.116.218.192', nftables: '10.116.28.209' },
  { minor: 'v1.35', iptables: '10.116.165.29', nftables: '10.116.74.166' },
];

describe.each(RECORDED)('kube-proxy $minor', ({ minor, iptables, nftables }) => {
  it('iptables mode: KUBE-SERVICES → KUBE-SVC → three KUBE-SEP chains, each DNAT to a pod', () => {
    const text = fixture(`iptables-save.hostnames.${minor}.txt`);
    const rules = kubeProxyIptablesRules(parseIptablesSave(text), hostnames);
    expect(rules).toMatchObject({
      service: 'fixture/hostnames:default',
      clusterIP: iptables,
      port: 80,
      protocol: 'tcp',
    });
    expect(rules!.endpoints.map((e) => e.destination).sort()).toEqual(ENDPOINTS);
    expect(rules!.endpoints.every((e) => e.masqueradesSelf)).toBe(true);
    expect(iptablesProxyIndex(text).ports.get('fixture/hostnames:default')).toEqual({
      clusterIPs: [iptables],
      destinations: ENDPOINTS,
    });
  });

  it('nftables mode: the service-ips map entry, a numgen over three endpoint chains, each DNAT to a pod', () => {
    const rules = kubeProxyNftRules(JSON.parse(fixture(`nft-ruleset.hostnames.${minor}.json`)), hostnames);
    expect(rules).toMatchObject({ clusterIP: nftables, port: 80, protocol: 'tcp', mapEntry: true, numgenMod: 3 });
    expect(rules!.endpoints.map((e) => e.destination).sort()).toEqual(ENDPOINTS);
    expect(
      nftProxyIndex(fixture(`nft-kube-proxy.hostnames.${minor}.txt`)).ports.get('fixture/hostnames:default'),
    ).toEqual({
      clusterIPs: [nftables],
      destinations: ENDPOINTS,
    });
  });
});
