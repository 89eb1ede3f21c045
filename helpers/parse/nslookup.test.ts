import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNslookup } from './nslookup.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseNslookup', () => {
  it('reads a found name, not taking the server Address line for an answer', () => {
    expect(parseNslookup(fixture('nslookup.busybox.ok.txt'))).toEqual({
      server: '10.96.0.10',
      answers: [{ name: 'hostnames.default.svc.cluster.local', address: '10.96.159.142' }],
      nxdomain: false,
    });
  });

  it('reads an NXDOMAIN', () => {
    expect(parseNslookup(fixture('nslookup.busybox.nxdomain.txt'))).toEqual({
      server: '10.96.0.10',
      answers: [],
      nxdomain: true,
    });
  });

  it('reads several answers and the older "Address 1: IP NAME" form', () => {
    // Constructed in the older busybox format (as printed in the guide), not recorded.
    const text = [
      'Server:    10.96.0.10',
      'Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local',
      '',
      'Name:      hostnames',
      'Address 1: 10.0.1.175 hostnames.default.svc.cluster.local',
      'Address 2: 10.0.1.176',
    ].join('\n');
    expect(parseNslookup(text)).toEqual({
      server: '10.96.0.10',
      answers: [
        { name: 'hostnames.default.svc.cluster.local', address: '10.0.1.175' },
        { name: 'hostnames', address: '10.0.1.176' },
      ],
      nxdomain: false,
    });
  });

  it('returns no server and no answers for empty input', () => {
    expect(parseNslookup('')).toEqual({ answers: [], nxdomain: false });
    expect(parseNslookup(';; connection timed out; no servers could be reached\n')).toEqual({
      answers: [],
      nxdomain: false,
    });
  });
});
