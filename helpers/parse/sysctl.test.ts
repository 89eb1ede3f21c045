import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { effectiveRpFilter, nodeSysctls, parseSysctl } from './sysctl.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseSysctl', () => {
  it('reads every "key = value" line and skips the error of a key the node does not have', () => {
    expect(parseSysctl(fixture('sysctl.broken.txt'))).toEqual({
      'net.ipv4.ip_forward': '0',
      'net.ipv4.conf.all.rp_filter': '2',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv4.conf.eth0.rp_filter': '0',
      'net.ipv4.conf.cni0.rp_filter': '1',
      'net.bridge.bridge-nf-call-iptables': '1',
      'net.netfilter.nf_conntrack_count': '6',
      'net.netfilter.nf_conntrack_max': '262144',
    });
  });
});

describe('nodeSysctls', () => {
  it('reads a clean node: forwarding on, rp_filter off, bridged traffic through iptables', () => {
    expect(nodeSysctls(fixture('sysctl.clean.txt'))).toEqual({
      ipForward: true,
      rpFilter: { all: 0, default: 0, eth0: 0, cni0: 0 },
      bridgeNfCallIptables: true,
      conntrack: { count: 142, max: 262144 },
    });
  });

  it('reads a node with forwarding off and rp_filter loose on all, strict on cni0', () => {
    expect(nodeSysctls(fixture('sysctl.broken.txt'))).toEqual({
      ipForward: false,
      rpFilter: { all: 2, default: 0, eth0: 0, cni0: 1 },
      bridgeNfCallIptables: true,
      conntrack: { count: 6, max: 262144 },
    });
  });

  it('leaves a missing key undefined (br_netfilter not loaded), and gives dotted interface names back', () => {
    const missing = 'sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory';
    const clean = fixture('sysctl.clean.txt')
      .split('\n')
      .filter((line) => !line.startsWith('net.bridge.') && !line.startsWith('net.netfilter.nf_conntrack_max'));
    const sysctls = nodeSysctls([...clean, missing, 'net.ipv4.conf.eth0/100.rp_filter = 1'].join('\n'));
    expect(sysctls.bridgeNfCallIptables).toBeUndefined();
    expect(sysctls.conntrack).toBeUndefined(); // count without max says nothing
    expect(sysctls.rpFilter['eth0.100']).toBe(1);
    expect(nodeSysctls('')).toEqual({ rpFilter: {} });
  });
});

describe('effectiveRpFilter', () => {
  it("is the larger of `all` and the interface's own value", () => {
    const broken = nodeSysctls(fixture('sysctl.broken.txt'));
    expect(effectiveRpFilter(broken, 'cni0')).toBe(2);
    expect(effectiveRpFilter(broken, 'eth0')).toBe(2);
    expect(effectiveRpFilter(broken, 'flannel.1')).toBe(2);
    expect(effectiveRpFilter(nodeSysctls(fixture('sysctl.clean.txt')), 'cni0')).toBe(0);
    expect(effectiveRpFilter({ rpFilter: { cni0: 1 } }, 'cni0')).toBe(1);
    expect(effectiveRpFilter({ rpFilter: {} }, 'cni0')).toBeUndefined();
  });
});
