import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { dualStackSkipReason, familiesSkipReason, ipFamiliesOfNodes, ipv6SkipReason } from './families.js';
import { IP_FAMILY_CHOICES } from '../settings.js';
import type { Capabilities } from './provider.js';

const capabilities = (ipFamilies: Capabilities['ipFamilies']) => ({ ipFamilies }) as Capabilities;

describe('ipv6SkipReason', () => {
  it('on an IPv4 local cluster, names the --ip-family choices that make one with IPv6', () => {
    const reason = ipv6SkipReason({ provider: 'local', capabilities: capabilities(['IPv4']) })!;
    expect(reason).toBe(
      'this cluster serves IPv4 only (--ip-family ipv6 or --ip-family dual makes a local cluster that serves IPv6)',
    );
    // What it names is what the CLI takes: no "the local provider builds single-stack IPv4 clusters".
    for (const [, choice] of reason.matchAll(/--ip-family (\w+)/g))
      expect(IP_FAMILY_CHOICES as readonly string[]).toContain(choice);
    expect(reason).not.toMatch(/single-stack/);
  });

  it('on a cluster of another provider, says what it serves and nothing of local flags', () => {
    expect(ipv6SkipReason({ provider: 'kind', capabilities: capabilities(['IPv4']) })).toBe(
      'this cluster serves IPv4 only',
    );
  });

  it('has no reason where the cluster serves IPv6, alone or beside IPv4', () => {
    expect(ipv6SkipReason({ provider: 'local', capabilities: capabilities(['IPv4', 'IPv6']) })).toBeUndefined();
    expect(ipv6SkipReason({ provider: 'local', capabilities: capabilities(['IPv6']) })).toBeUndefined();
  });
});

describe('dualStackSkipReason and familiesSkipReason', () => {
  it('on a single-stack local cluster, names the one choice that serves both families', () => {
    for (const families of [['IPv4'], ['IPv6']] as const)
      expect(dualStackSkipReason({ provider: 'local', capabilities: capabilities([...families]) })).toBe(
        `this cluster serves ${families[0]} only (--ip-family dual makes a local cluster that serves both families)`,
      );
    expect(dualStackSkipReason({ provider: 'kind', capabilities: capabilities(['IPv6']) })).toBe(
      'this cluster serves IPv6 only',
    );
  });

  it('has no reason on a dual-stack cluster, whichever family is primary', () => {
    expect(dualStackSkipReason({ provider: 'local', capabilities: capabilities(['IPv4', 'IPv6']) })).toBeUndefined();
    expect(dualStackSkipReason({ provider: 'kind', capabilities: capabilities(['IPv6', 'IPv4']) })).toBeUndefined();
  });

  it('names the choices that serve IPv4 where an IPv6-only cluster lacks it', () => {
    expect(familiesSkipReason({ provider: 'local', capabilities: capabilities(['IPv6']) }, ['IPv4'])).toBe(
      'this cluster serves IPv6 only (--ip-family ipv4 or --ip-family dual makes a local cluster that serves IPv4)',
    );
  });
});

describe('ipFamiliesOfNodes (a cluster you bring)', () => {
  const node = (podCIDRs: string[] | undefined, addresses: string[]) =>
    ({
      spec: { podCIDRs },
      status: { addresses: addresses.map((address) => ({ type: 'InternalIP', address })) },
    }) as V1Node;

  it("reads the families from the nodes' pod ranges, primary first", () => {
    expect(ipFamiliesOfNodes([node(['10.244.1.0/24', 'fd00:10:244:1::/64'], ['10.250.0.11'])])).toEqual([
      'IPv4',
      'IPv6',
    ]);
    expect(ipFamiliesOfNodes([node(['fd00:10:244:1::/64', '10.244.1.0/24'], [])])).toEqual(['IPv6', 'IPv4']);
  });

  it('falls back to the InternalIPs where no node has pod ranges, and to IPv4 where nothing says', () => {
    expect(ipFamiliesOfNodes([node(undefined, ['fd00:10:250::11']), node(undefined, ['fd00:10:250::12'])])).toEqual([
      'IPv6',
    ]);
    expect(ipFamiliesOfNodes([])).toEqual(['IPv4']);
  });
});
