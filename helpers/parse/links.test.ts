import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpLink } from './links.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseIpLink', () => {
  it("reads a node's loopback, its veth to the fabric, the CNI bridge and two pods' veths", () => {
    expect(parseIpLink(fixture('ip-link.clean.txt'))).toEqual([
      {
        name: 'lo',
        index: 1,
        mtu: 65536,
        up: true,
        state: 'UNKNOWN',
        flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
        linkType: 'loopback',
        address: '00:00:00:00:00:00',
      },
      {
        name: 'eth0',
        index: 2,
        mtu: 1500,
        up: true,
        peerIndex: 6,
        state: 'UP',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        linkType: 'ether',
        address: 'a6:3a:08:f2:30:51',
        linkNetns: 'svc-rec-fabric',
      },
      {
        name: 'cni0',
        index: 3,
        mtu: 1500,
        up: true,
        state: 'UP',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        linkType: 'ether',
        address: '92:56:a1:e4:c5:ca',
      },
      {
        name: 'veth1c356ec7',
        index: 4,
        mtu: 1500,
        master: 'cni0',
        up: true,
        peerIndex: 2,
        state: 'UP',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        linkType: 'ether',
        address: 'd2:3e:ea:8c:6e:40',
        linkNetns: '1',
      },
      {
        name: 'veth5f0cb4db',
        index: 5,
        mtu: 1500,
        master: 'cni0',
        up: true,
        peerIndex: 2,
        state: 'UP',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        linkType: 'ether',
        address: 'ba:6f:23:3d:23:f0',
        linkNetns: '2',
      },
    ]);
  });

  it("reads a pod's veth set down and the node's own link at a smaller MTU", () => {
    const links = parseIpLink(fixture('ip-link.broken.txt'));
    expect(links.map(({ name, mtu, up, state }) => ({ name, mtu, up, state }))).toEqual([
      { name: 'lo', mtu: 65536, up: true, state: 'UNKNOWN' },
      { name: 'eth0', mtu: 1400, up: true, state: 'UP' },
      { name: 'cni0', mtu: 1500, up: true, state: 'UP' },
      { name: 'veth5ecf1d46', mtu: 1500, up: false, state: 'DOWN' },
      { name: 'veth5412a8e2', mtu: 1500, up: true, state: 'UP' },
    ]);
    expect(links[3]).toMatchObject({ master: 'cni0', peerIndex: 2, flags: ['BROADCAST', 'MULTICAST'] });
  });

  it('tells the parent of a VLAN from the peer of a veth, and skips lines that are no link', () => {
    const vlan =
      '7: eth0.100@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff';
    const links = parseIpLink(`${vlan}\n\nDevice "x" does not exist.\n`);
    expect(links).toEqual([expect.objectContaining({ name: 'eth0.100', index: 7, parent: 'eth0', mtu: 1500 })]);
    expect(links[0]).not.toHaveProperty('peerIndex');
  });
});
