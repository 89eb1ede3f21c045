import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iptablesFirewall } from '../parse/firewall.js';
import { parseIpLink } from '../parse/links.js';
import { parseRoutes, routeFor } from '../parse/routes.js';
import { nodeSysctls } from '../parse/sysctl.js';
import {
  describeRoute,
  familyOnlySettings,
  nodeNotes,
  nodeSettings,
  settingsExplaining,
  type NodeLayer,
} from './node-layer.js';

// Output recorded on a two-node local cluster (pods 10.236.0.0/16, Services 10.116.0.0/16): see the fixtures README.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../parse/fixtures', name), 'utf8');
const ranges = { podCIDRs: ['10.236.0.0/16'], serviceCIDRs: ['10.116.0.0/16'] };

function layerFrom(files: { iptables?: string; sysctl: string; links: string; routes: string }): NodeLayer {
  const sysctls = nodeSysctls(fixture(files.sysctl));
  const route = describeRoute(routeFor(parseRoutes(fixture(files.routes)), '10.236.2.0/24'), '10.236.2.0/24');
  return {
    node: 'node-1',
    ipForward: sysctls.ipForward,
    rpFilter: sysctls.rpFilter,
    bridgeNfCallIptables: sysctls.bridgeNfCallIptables,
    conntrack: sysctls.conntrack,
    firewall: files.iptables ? iptablesFirewall(fixture(files.iptables), ranges).filter((f) => f.affectsCluster) : [],
    podRoutes: [{ node: 'node-2', cidr: '10.236.2.0/24', ...route }],
    mtus: parseIpLink(fixture(files.links))
      .filter((l) => l.up && l.name !== 'lo')
      .map((l) => ({ link: l.name, mtu: l.mtu, pods: !!l.master || /^(cni|cbr|docker|br-)/.test(l.name) })),
    errors: [],
  };
}

describe('node settings from recorded node output', () => {
  it('finds nothing to blame on a clean node', () => {
    const clean = layerFrom({
      iptables: 'iptables-save.hostnames.txt',
      sysctl: 'sysctl.clean.txt',
      links: 'ip-link.clean.txt',
      routes: 'ip-route.clean.txt',
    });
    expect(nodeSettings(clean)).toEqual([]);
    expect(nodeNotes(clean)).toEqual([]);
  });

  it("names Docker's FORWARD policy and an admin's REJECT, not Docker's own docker0 drops", () => {
    const settings = nodeSettings(
      layerFrom({
        iptables: 'iptables-save.firewall.txt',
        sysctl: 'sysctl.clean.txt',
        links: 'ip-link.clean.txt',
        routes: 'ip-route.clean.txt',
      }),
    ).map((s) => s.setting);
    expect(settings).toContain('iptables filter FORWARD on node-1: policy drop');
    expect(settings).toContain(
      'iptables filter FORWARD on node-1: -A FORWARD -s 10.236.0.0/16 -p tcp -m tcp --dport 9376 -j REJECT --reject-with icmp-port-unreachable',
    );
    expect(settings.join('\n')).not.toContain('docker0');
  });

  it('lets a policy pass when the chain accepts the pod range first', () => {
    const settings = nodeSettings(
      layerFrom({
        iptables: 'iptables-save.accepted.txt',
        sysctl: 'sysctl.clean.txt',
        links: 'ip-link.clean.txt',
        routes: 'ip-route.clean.txt',
      }),
    ).map((s) => s.setting);
    expect(settings.join('\n')).not.toContain('policy drop');
  });

  it('names forwarding off, a missing route, and notes a smaller node MTU and strict rp_filter', () => {
    const layer = layerFrom({
      sysctl: 'sysctl.broken.txt',
      links: 'ip-link.broken.txt',
      routes: 'ip-route.missing.txt',
    });
    const settings = nodeSettings(layer);
    expect(settings.map((s) => s.setting)).toEqual([
      'net.ipv4.ip_forward = 0 on node-1',
      expect.stringMatching(/^node-1 has no route to 10\.236\.2\.0\/24/),
    ]);
    const reading = {
      layer: 'pod IP' as const,
      fit: 'forwarding' as const,
      nodes: ['node-1'],
      alternatives: [],
      pattern: '',
    };
    expect(settingsExplaining(reading, [layer])?.settings[0].setting).toBe('net.ipv4.ip_forward = 0 on node-1');
    expect(nodeNotes(layer).join('\n')).toMatch(/larger MTU than its own links.*> 1400/);
    expect(nodeNotes(layer).join('\n')).toContain('strict rp_filter on node-1 (cni0)');
  });
});

describe('node settings of one address family (recorded ip6tables-save: IPv6 FORWARD policy DROP)', () => {
  const dual = { podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/48'], serviceCIDRs: ['10.96.0.10/32'] };
  const layer = (): NodeLayer => ({
    node: 'node-2',
    rpFilter: {},
    firewall: iptablesFirewall(fixture('ip6tables-save.forward-drop.txt'), dual, 'ip6tables'),
    podRoutes: [],
    mtus: [],
    errors: [],
  });

  it('explains nothing of the IPv4 matrix, and is named for IPv6', () => {
    expect(nodeSettings(layer(), 4)).toEqual([]);
    expect(familyOnlySettings([layer()], 6).map((s) => s.setting)).toEqual([
      'ip6tables filter FORWARD on node-2: policy drop',
    ]);
    const reading = {
      layer: 'pod IP' as const,
      fit: 'forwarding' as const,
      nodes: ['node-2'],
      alternatives: [],
      pattern: '',
    };
    expect(settingsExplaining(reading, [layer()], 4)).toBeUndefined();
    expect(settingsExplaining(reading, [layer()], 6)?.settings[0].setting).toBe(
      'ip6tables filter FORWARD on node-2: policy drop',
    );
  });
});
