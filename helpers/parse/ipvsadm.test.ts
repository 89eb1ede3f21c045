import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpvsadm } from './ipvsadm.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const masq = (address: string, port: number) => ({
  address,
  port,
  forward: 'Masq',
  weight: 1,
  activeConn: 0,
  inactConn: 0,
});

describe('parseIpvsadm', () => {
  it('reads the guide output (aligned columns, no banner)', () => {
    expect(parseIpvsadm(fixture('ipvsadm-Ln.guide.txt'))).toEqual([
      {
        protocol: 'TCP',
        address: '10.0.1.175',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [masq('10.244.0.5', 9376), masq('10.244.0.6', 9376), masq('10.244.0.7', 9376)],
      },
    ]);
  });

  it('reads the checklist output (version banner, single-spaced columns)', () => {
    expect(parseIpvsadm(fixture('ipvsadm-Ln.checklist.txt'))).toEqual([
      {
        protocol: 'TCP',
        address: '10.104.0.64',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [masq('10.244.169.135', 80), masq('10.244.36.73', 80), masq('10.244.169.136', 80)],
      },
    ]);
  });

  it('reads IPv6, UDP, flags, counts, and skips fwmark services', () => {
    // Constructed in ipvsadm's format, not recorded: this machine has no IP_VS.
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  [fd00::1]:80 rr',
      '  -> [fd00:10:244::5]:9376        Masq    1      2          7',
      'FWM  7 rr',
      '  -> 10.244.0.9:80                Masq    1      0          0',
      'UDP  10.96.0.10:53 lc persistent 10800',
      '  -> 10.244.1.2:53                Masq    0      0          3',
      '',
    ].join('\r\n');
    expect(parseIpvsadm(text)).toEqual([
      {
        protocol: 'TCP',
        address: 'fd00::1',
        port: 80,
        scheduler: 'rr',
        flags: [],
        realServers: [
          { address: 'fd00:10:244::5', port: 9376, forward: 'Masq', weight: 1, activeConn: 2, inactConn: 7 },
        ],
      },
      {
        protocol: 'UDP',
        address: '10.96.0.10',
        port: 53,
        scheduler: 'lc',
        flags: ['persistent', '10800'],
        realServers: [{ address: '10.244.1.2', port: 53, forward: 'Masq', weight: 0, activeConn: 0, inactConn: 3 }],
      },
    ]);
  });

  it('returns [] for empty input or a table with no virtual servers', () => {
    expect(parseIpvsadm('')).toEqual([]);
    expect(
      parseIpvsadm(
        'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n',
      ),
    ).toEqual([]);
  });

  it('keeps a virtual server that has no real servers', () => {
    expect(parseIpvsadm('TCP  10.96.7.7:80 rr\n')).toEqual([
      { protocol: 'TCP', address: '10.96.7.7', port: 80, scheduler: 'rr', flags: [], realServers: [] },
    ]);
  });
});
