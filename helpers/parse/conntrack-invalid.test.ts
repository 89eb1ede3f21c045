import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { invalidForwarding } from './conntrack-invalid.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const KUBE_PROXY_DROP =
  '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP';

describe('invalidForwarding', () => {
  it("meets kube-proxy's INVALID drop in KUBE-FORWARD first on a clean node (v1.33, v1.34, v1.35)", () => {
    for (const minor of ['33', '34', '35'])
      expect(invalidForwarding(fixture(`iptables-save.hostnames.v1.${minor}.txt`), ['10.236.0.0/16'])).toEqual({
        dropRule: KUBE_PROXY_DROP,
      });
  });

  it("names the FORWARD rule accepting ct state INVALID ahead of kube-proxy's drop (the self-test's fault)", () => {
    expect(invalidForwarding(fixture('iptables-save.invalid-accepted.txt'), ['10.244.0.0/16'])).toEqual({
      acceptRule: '-A FORWARD -m conntrack --ctstate INVALID -j ACCEPT',
      bypassedDrop: KUBE_PROXY_DROP,
    });
  });

  it("passes over Docker's policy and docker0 rules but not a DOCKER-USER accept of the pod range jumped to first", () => {
    expect(invalidForwarding(fixture('iptables-save.firewall.txt'), ['10.236.0.0/16'])).toEqual({
      dropRule: KUBE_PROXY_DROP,
    });
    expect(invalidForwarding(fixture('iptables-save.accepted.txt'), ['10.236.0.0/16'])).toEqual({
      acceptRule: '-A DOCKER-USER -s 10.236.0.0/16 -j ACCEPT',
      bypassedDrop: KUBE_PROXY_DROP,
    });
    // An address match outside the pod ranges cannot accept pod traffic.
    expect(invalidForwarding(fixture('iptables-save.accepted.txt'), ['10.244.0.0/16'])).toEqual({
      dropRule: KUBE_PROXY_DROP,
    });
  });

  it('passes over rules an INVALID TCP packet does not meet: other states, marks, interfaces, other protocols', () => {
    const save = [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      ':KUBE-FORWARD - [0:0]',
      ':HOST - [0:0]',
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A FORWARD -i docker0 -m conntrack --ctstate INVALID -j ACCEPT',
      '-A FORWARD -p udp -m conntrack --ctstate INVALID -j ACCEPT',
      '-A FORWARD -j HOST',
      '-A FORWARD -j KUBE-FORWARD',
      '-A HOST -m conntrack ! --ctstate INVALID -j ACCEPT',
      '-A HOST -j RETURN',
      '-A HOST -m state --state INVALID -j ACCEPT',
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      'COMMIT',
    ].join('\n');
    expect(invalidForwarding(save)).toEqual({ dropRule: '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP' });
    expect(invalidForwarding(save.replace('-A HOST -j RETURN\n', ''))).toEqual({
      acceptRule: '-A HOST -m state --state INVALID -j ACCEPT',
      bypassedDrop: '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    });
  });

  it('finds neither where nothing drops INVALID (nftables mode, no filter table)', () => {
    expect(invalidForwarding('')).toEqual({});
    expect(invalidForwarding('*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n')).toEqual({});
  });
});
