import { describe, expect, it } from 'vitest';
import { readSettings } from '../../settings.js';
import { clusterLayout } from './layout.js';

describe('clusterLayout', () => {
  const settings = readSettings({});

  it('derives the IPv6 ranges from the IPv4 ones: a.b.c.d/n ↦ fd00:a:b:c::', () => {
    const layout = clusterLayout('t', 2, settings, 'dual');
    expect(layout.families).toEqual(['IPv4', 'IPv6']);
    expect(layout.nets.IPv6).toEqual({
      family: 'IPv6',
      nodeSubnet: 'fd00:10:250::/64',
      prefixLength: 64,
      fabricIP: 'fd00:10:250::1',
      hostIP: 'fd00:10:250::fe',
      podCIDR: 'fd00:10:244::/56',
      serviceCIDR: 'fd00:10:96::/112',
      dnsIP: 'fd00:10:96::a',
      externalIPRange: 'fd00:10:251::/112',
      loadBalancerIPRange: 'fd00:10:252::/112',
    });
    expect(layout.nodes.map((n) => [n.addrs, n.podCIDRs])).toEqual([
      [
        { IPv4: '10.250.0.11', IPv6: 'fd00:10:250::11' },
        { IPv4: '10.244.1.0/24', IPv6: 'fd00:10:244:1::/64' },
      ],
      [
        { IPv4: '10.250.0.12', IPv6: 'fd00:10:250::12' },
        { IPv4: '10.244.2.0/24', IPv6: 'fd00:10:244:2::/64' },
      ],
    ]);
  });

  it('puts the API server at the primary family of the cluster', () => {
    expect(clusterLayout('t', 1, settings).apiserverURL).toBe('https://10.250.0.11:6443');
    expect(clusterLayout('t', 1, settings, 'dual').apiserverURL).toBe('https://10.250.0.11:6443');
    expect(clusterLayout('t', 1, settings, 'ipv6').apiserverURL).toBe('https://[fd00:10:250::11]:6443');
    expect(clusterLayout('t', 1, settings, 'ipv6').families).toEqual(['IPv6']);
  });

  it('puts the DNS Service at the tenth address of the Service range unless told, and refuses one outside it', () => {
    expect(settings.network.dnsIP).toBe('10.96.0.10');
    expect(readSettings({ SVC_SERVICE_CIDR: '10.197.0.0/16' }).network.dnsIP).toBe('10.197.0.10');
    expect(readSettings({ SVC_SERVICE_CIDR: '10.197.0.0/16', SVC_DNS_IP: '10.197.3.3' }).network.dnsIP).toBe(
      '10.197.3.3',
    );
    expect(() => readSettings({ SVC_SERVICE_CIDR: '10.197.0.0/16', SVC_DNS_IP: '10.96.0.10' })).toThrow(
      'SVC_DNS_IP="10.96.0.10" is not an address inside SVC_SERVICE_CIDR 10.197.0.0/16; give one of its addresses, or leave it unset for 10.197.0.10',
    );
    expect(() => readSettings({ SVC_SERVICE_CIDR: 'ten' })).toThrow(/SVC_SERVICE_CIDR="ten" is not an address range/);
  });
});
