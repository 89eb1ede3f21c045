import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  acceptsBefore,
  findingFamilies,
  findingMatches,
  iptablesFirewall,
  nftFirewall,
  type FirewallFinding,
} from './firewall.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
// The ranges of the local cluster the firewall fixtures were recorded on.
const ranges = { podCIDRs: ['10.236.0.0/16'], serviceCIDRs: ['10.116.0.0/16'] };
/** What a FORWARD chain's DROP policy is found as (Docker sets it). */
const forwardPolicyDrop = (
  family: FirewallFinding['family'],
  more: Partial<FirewallFinding> = {},
): FirewallFinding => ({
  family,
  table: 'filter',
  chain: 'FORWARD',
  hook: 'forward',
  kind: 'policy',
  verdict: 'drop',
  text: 'policy DROP',
  affectsCluster: true,
  acceptedFirst: false,
  ...more,
});

describe('iptablesFirewall', () => {
  it("finds Docker's FORWARD DROP, an admin's REJECT, a user chain's drop and the raw table's drops, not kube-proxy's", () => {
    expect(iptablesFirewall(fixture('iptables-save.firewall.txt'), ranges)).toEqual([
      forwardPolicyDrop('iptables'),
      {
        family: 'iptables',
        table: 'filter',
        chain: 'FORWARD',
        hook: 'forward',
        kind: 'rule',
        verdict: 'reject',
        text: '-A FORWARD -s 10.236.0.0/16 -p tcp -m tcp --dport 9376 -j REJECT --reject-with icmp-port-unreachable',
        affectsCluster: true,
        protocol: 'tcp',
        dports: ['9376'],
      },
      {
        family: 'iptables',
        table: 'filter',
        chain: 'DOCKER-ISOLATION-STAGE-2',
        hook: 'forward', // FORWARD → DOCKER-ISOLATION-STAGE-1 → DOCKER-ISOLATION-STAGE-2
        kind: 'rule',
        verdict: 'drop',
        text: '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
        affectsCluster: true, // interfaces are not judged: they are handed on instead
        interfaces: { out: 'docker0' },
      },
      {
        family: 'iptables',
        table: 'filter',
        chain: 'HOST-IN',
        hook: 'input',
        kind: 'rule',
        verdict: 'drop',
        text: '-A HOST-IN ! -s 10.246.0.0/24 -p tcp -m tcp --dport 10250 -j DROP',
        affectsCluster: true, // "not from the node subnet" includes the pods
        protocol: 'tcp',
        dports: ['10250'],
      },
      {
        family: 'iptables',
        table: 'raw',
        chain: 'PREROUTING',
        hook: 'prerouting',
        kind: 'rule',
        verdict: 'drop',
        text: '-A PREROUTING -s 203.0.113.0/24 -j DROP',
        affectsCluster: false,
      },
      {
        family: 'iptables',
        table: 'raw',
        chain: 'PREROUTING',
        hook: 'prerouting',
        kind: 'rule',
        verdict: 'drop',
        text: '-A PREROUTING ! -s 10.246.0.0/24 -d 10.116.0.0/16 -j DROP',
        affectsCluster: true,
      },
    ]);
  });

  it('leaves out a chain nothing jumps to (UNUSED) and every KUBE-* rule of the same dump', () => {
    const chains = iptablesFirewall(fixture('iptables-save.firewall.txt'), ranges).map((f) => f.chain);
    expect(chains).not.toContain('UNUSED');
    expect(chains.filter((chain) => chain.startsWith('KUBE-'))).toEqual([]);
  });

  it("finds nothing on clean nodes: KUBE-FIREWALL's, KUBE-FORWARD's and KUBE-SERVICES' drops and rejects are kube-proxy's", () => {
    const theirs = { podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/12'] };
    for (const name of ['iptables-save.hostnames.txt', 'iptables-save.nodeport.txt', 'iptables-save.affinity.txt']) {
      expect(iptablesFirewall(fixture(name), theirs)).toEqual([]);
    }
  });

  it('marks a FORWARD DROP policy accepted first when DOCKER-USER accepts the pod range', () => {
    expect(iptablesFirewall(fixture('iptables-save.accepted.txt'), ranges)).toEqual([
      forwardPolicyDrop('iptables', { acceptedFirst: true }),
    ]);
  });

  it('judges affectsCluster against the ranges it is given: one address match that can hold is enough', () => {
    const raw = (podCIDRs: string[]) =>
      iptablesFirewall(fixture('iptables-save.firewall.txt'), { podCIDRs, serviceCIDRs: [] })
        .filter((f) => f.table === 'raw')
        .map((f) => f.affectsCluster);
    // `-s 203.0.113.0/24` and `! -s 10.246.0.0/24 -d 10.116.0.0/16`
    expect(raw(['203.0.113.0/25'])).toEqual([true, true]);
    expect(raw(['10.246.0.0/25'])).toEqual([false, false]); // inside the negated prefix, outside -d
    expect(raw(['10.116.0.0/24'])).toEqual([false, true]);
  });
});

describe('acceptsBefore', () => {
  it('follows FORWARD → DOCKER-USER to `-s 10.236.0.0/16 -j ACCEPT`', () => {
    const dump = fixture('iptables-save.accepted.txt');
    expect(acceptsBefore(dump, 'FORWARD', ['10.236.0.0/16'])).toBe(true);
    expect(acceptsBefore(dump, 'FORWARD', ['10.236.2.0/24'])).toBe(true); // inside the accepted range
    expect(acceptsBefore(dump, 'FORWARD', ['10.236.1.0/24', '10.236.2.0/24'])).toBe(true); // one per node
    expect(acceptsBefore(dump, 'FORWARD', ['10.236.1.0/24', '10.99.0.0/16'])).toBe(false); // each must be
    expect(acceptsBefore(dump, 'FORWARD', ['10.99.0.0/16'])).toBe(false);
    expect(acceptsBefore(dump, 'FORWARD', [])).toBe(false);
    expect(acceptsBefore(dump, 'INPUT', ['10.236.0.0/16'])).toBe(false);
  });

  it("does not count Docker's docker0 ACCEPTs, KUBE-FORWARD's marked and RELATED,ESTABLISHED ACCEPTs, or a port's", () => {
    expect(acceptsBefore(fixture('iptables-save.firewall.txt'), 'FORWARD', ['10.236.0.0/16'])).toBe(false);
    expect(acceptsBefore(fixture('iptables-save.hostnames.txt'), 'FORWARD', ['10.244.0.0/16'])).toBe(false);
  });

  it('is false for a table or chain the dump does not have', () => {
    expect(acceptsBefore(fixture('iptables-save.accepted.txt'), 'FORWARD', ['10.236.0.0/16'], 'security')).toBe(false);
    expect(acceptsBefore('', 'FORWARD', ['10.236.0.0/16'])).toBe(false);
  });
});

describe('nftFirewall', () => {
  it("reads inet host_firewall beside iptables-nft's tables, which it leaves to iptablesFirewall", () => {
    // The same node as iptables-save.firewall.txt: its Docker chains are also in `ip filter`.
    expect(nftFirewall(fixture('nft-ruleset.firewall.json'), ranges)).toEqual([
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'forward',
        hook: 'forward',
        kind: 'policy',
        verdict: 'drop',
        text: 'policy drop',
        affectsCluster: true,
        acceptedFirst: false, // only `ct state established,related accept` comes first
      },
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'input',
        hook: 'input',
        kind: 'rule',
        verdict: 'drop',
        text: 'ip saddr @blocked drop',
        affectsCluster: true, // the set holds 10.116.0.10
      },
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'input',
        hook: 'input',
        kind: 'rule',
        verdict: 'reject',
        text: 'tcp dport 22 ip saddr != 10.246.0.0/24 reject with tcp reset',
        affectsCluster: true,
        protocol: 'tcp',
        dports: ['22'],
      },
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'forward',
        hook: 'forward',
        kind: 'rule',
        verdict: 'drop',
        text: 'ip daddr 10.236.0.0/16 drop',
        affectsCluster: true,
      },
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'forward',
        hook: 'forward',
        kind: 'rule',
        verdict: 'drop',
        text: 'ip saddr { 192.0.2.0/24, 203.0.113.7 } counter drop',
        affectsCluster: false,
      },
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'forward_extra',
        hook: 'forward', // reached by `jump forward_extra`; the chain `unused` is not
        kind: 'rule',
        verdict: 'reject',
        text: 'ip daddr 10.236.0.0-10.236.255.255 tcp dport 9376 reject with icmp port-unreachable',
        affectsCluster: true,
        protocol: 'tcp',
        dports: ['9376'],
      },
    ]);
  });

  it("leaves out kube-proxy's and the CNI's tables (nftables mode), reads verdict maps, interfaces and IPv6", () => {
    const findings = nftFirewall(fixture('nft-ruleset.firewall-nftables-mode.json'), ranges);
    expect(findings.map((f) => f.table)).toEqual(Array(6).fill('inet host_firewall'));
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'policy', chain: 'forward', text: 'policy drop', acceptedFirst: true }),
      expect.objectContaining({ text: 'ip daddr 10.236.0.0/16 drop', affectsCluster: true }),
      expect.objectContaining({ text: 'ip6 daddr fd00::/8 drop', affectsCluster: false }),
      expect.objectContaining({
        text: 'ip saddr vmap { 10.236.2.66 : drop, 192.0.2.1 : accept }',
        verdict: 'drop',
        affectsCluster: true,
      }),
      {
        family: 'nftables',
        table: 'inet host_firewall',
        chain: 'prerouting',
        hook: 'prerouting',
        kind: 'rule',
        verdict: 'drop',
        text: 'iifname "eth0" ip daddr 10.116.0.10 udp dport 53 drop',
        affectsCluster: true,
        interfaces: { in: 'eth0' },
        protocol: 'udp',
        dports: ['53'],
      },
      expect.objectContaining({
        hook: 'output',
        verdict: 'reject',
        text: 'ip daddr != 10.0.0.0/8 reject with icmpx admin-prohibited',
        affectsCluster: false,
      }),
    ]);
  });

  it('judges a verdict map by the keys that lead to drop', () => {
    const elsewhere = { podCIDRs: ['192.0.2.0/24'], serviceCIDRs: [] };
    const vmap = nftFirewall(fixture('nft-ruleset.firewall-nftables-mode.json'), elsewhere).find((f) =>
      f.text.includes('vmap'),
    );
    expect(vmap?.affectsCluster).toBe(false); // 192.0.2.1 is accepted, 10.236.2.66 dropped
  });

  it("finds nothing in kube-proxy's nftables-mode rulesets nor in this project's guard", () => {
    const theirs = { podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/12'] };
    for (const name of ['nft-ruleset.hostnames.json', 'nft-ruleset.nodeport.json', 'nft-ruleset.affinity.json']) {
      expect(nftFirewall(fixture(name), theirs)).toEqual([]);
    }
    expect(nftFirewall(fixture('nft-fabric-guard.json'), ranges)).toEqual([]); // inet svc_guard's reject
    expect(nftFirewall(fixture('nft-kind-guard.json'), ranges)).toEqual([]); // inet svc_conformance_kind
  });

  it('returns [] for no output and throws on text that is not JSON', () => {
    expect(nftFirewall('', ranges)).toEqual([]);
    expect(nftFirewall('{"nftables": []}', ranges)).toEqual([]);
    expect(() => nftFirewall('Error: Could not process rule', ranges)).toThrow();
  });
});

describe('protocol and port of a finding (recorded: a UDP-53 drop on the self-test node CoreDNS runs on)', () => {
  const cluster = { podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.10/32'] };

  it('reads -p udp --dport 53 from iptables and udp dport 53 from nftables, and what each can match', () => {
    const iptables = iptablesFirewall(fixture('iptables-save.udp-dns-drop.txt'), cluster).find(
      (f) => f.chain === 'FORWARD' && f.kind === 'rule',
    )!;
    expect(iptables).toMatchObject({
      text: '-A FORWARD -p udp -m udp --dport 53 -j DROP',
      protocol: 'udp',
      dports: ['53'],
    });
    const nft = nftFirewall(fixture('nft-ruleset.udp-dns-drop.json'), cluster).find(
      (f) => f.table === 'inet host_dns_filter',
    )!;
    expect(nft).toMatchObject({
      chain: 'forward',
      hook: 'forward',
      text: 'udp dport 53 drop',
      protocol: 'udp',
      dports: ['53'],
    });
    for (const f of [iptables, nft]) {
      expect(findingMatches(f, 'udp', 53)).toBe(true);
      expect(findingMatches(f, 'tcp', 53)).toBe(false);
      expect(findingMatches(f, 'udp', 5353)).toBe(false);
    }
    expect(findingMatches({ ...nft, dports: ['50-60'] }, 'udp', 53)).toBe(true);
    expect(findingMatches({ ...nft, protocol: undefined, dports: undefined }, 'tcp', 80)).toBe(true);
  });
});

describe('iptablesFirewall on ip6tables-save (recorded: dual-stack node with IPv6 forwarding dropped)', () => {
  const dual = { podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/48'], serviceCIDRs: ['10.96.0.10/32'] };

  it("finds the IPv6 FORWARD policy DROP as ip6tables', of IPv6 only, and not kube-proxy's own rules", () => {
    const findings = iptablesFirewall(fixture('ip6tables-save.forward-drop.txt'), dual, 'ip6tables');
    expect(findings).toEqual([forwardPolicyDrop('ip6tables')]);
    expect(findingFamilies(findings[0])).toEqual([6]);
    expect(iptablesFirewall(fixture('iptables-save.invalid-accepted.txt'), dual)).toEqual([]);
  });
});
