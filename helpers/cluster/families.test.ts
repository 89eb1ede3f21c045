import { describe, expect, it } from 'vitest';
import { ipv6SkipReason } from './families.js';
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
