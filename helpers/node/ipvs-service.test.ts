import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipvsDestinations, ipvsServiceProblems } from './ipvs-service.js';
import { parseIpvsadm } from '../parse/ipvsadm.js';

// ipvsadm -Ln of a kube-proxy ipvs-mode node (the fixture's header says where its layout comes from).
const ipvsadm = readFileSync(new URL('./fixtures/ipvsadm-Ln.kube-proxy.txt', import.meta.url), 'utf8');
const hostnames = { protocol: 'TCP', clusterIP: '10.96.159.142', port: 80 } as const;
const endpoints = ['10.244.1.5:9376', '10.244.1.3:9376', '10.244.1.4:9376'];

describe('ipvsServiceProblems (the ipvs check of kube-proxy-rules.spec.ts)', () => {
  it('passes the Service port whose real servers are exactly its endpoints, in any order', () => {
    expect(ipvsServiceProblems(ipvsadm, hostnames, endpoints)).toEqual([]);
  });

  it('names the real servers and the endpoints when they differ', () => {
    expect(ipvsServiceProblems(ipvsadm, hostnames, [...endpoints, '10.244.1.6:9376'])).toEqual([
      'TCP 10.96.159.142:80 sends to 10.244.1.3:9376, 10.244.1.4:9376, 10.244.1.5:9376; the endpoints are 10.244.1.3:9376, 10.244.1.4:9376, 10.244.1.5:9376, 10.244.1.6:9376',
    ]);
  });

  it('does not count a real server kube-proxy weighed 0 (a terminating endpoint) as a destination', () => {
    const drained = ipvsadm.replace(
      '  -> 10.244.1.4:9376              Masq    1      1 ',
      '  -> 10.244.1.4:9376              Masq    0      1 ',
    );
    expect(drained).not.toBe(ipvsadm);
    expect(ipvsServiceProblems(drained, hostnames, endpoints)).toEqual([
      'TCP 10.96.159.142:80 sends to 10.244.1.3:9376, 10.244.1.5:9376; the endpoints are 10.244.1.3:9376, 10.244.1.4:9376, 10.244.1.5:9376',
    ]);
  });

  it('reports a missing virtual server, listing those there are', () => {
    expect(ipvsServiceProblems(ipvsadm, { ...hostnames, port: 8080 }, endpoints)).toEqual([
      '0 virtual servers TCP 10.96.159.142:8080, not 1 (virtual servers: TCP 10.96.0.1:443, TCP 10.96.0.10:53, TCP 10.96.0.10:9153, TCP 10.96.159.142:80, TCP 10.250.0.11:30080, UDP 10.96.0.10:53)',
    ]);
    expect(ipvsServiceProblems(ipvsadm, { ...hostnames, protocol: 'UDP' }, endpoints)[0]).toMatch(/^0 virtual servers/);
  });

  it('reports real servers that are not masqueraded', () => {
    const routed = ipvsadm.replace(
      '  -> 10.244.1.5:9376              Masq   ',
      '  -> 10.244.1.5:9376              Route  ',
    );
    expect(ipvsServiceProblems(routed, hostnames, endpoints)).toEqual([
      'TCP 10.96.159.142:80: real servers not masqueraded: 10.244.1.5:9376 Route weight 1',
    ]);
  });

  it("compares IPv6 real servers in the endpoints' [address]:port form", () => {
    const v6 = [
      'TCP  [fd00:10:96::9f]:80 rr',
      '  -> [fd00:10:244:1::3]:9376      Masq    1      0          0         ',
      '  -> [fd00:10:244:1::4]:9376      Masq    1      0          0         ',
    ].join('\n');
    expect(
      ipvsServiceProblems(v6, { protocol: 'TCP', clusterIP: 'fd00:10:96::9f', port: 80 }, [
        '[fd00:10:244:1::4]:9376',
        '[fd00:10:244:1::3]:9376',
      ]),
    ).toEqual([]);
    expect(ipvsDestinations(parseIpvsadm(v6)[0])).toEqual(['[fd00:10:244:1::3]:9376', '[fd00:10:244:1::4]:9376']);
  });
});
