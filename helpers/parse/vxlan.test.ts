import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flannelLease, parseFdb, parseNeighbours, parseVxlanLink } from './vxlan.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseVxlanLink', () => {
  it("reads flannel.1's VNI, port, local VTEP address, underlay link and MTU", () => {
    expect(parseVxlanLink(fixture('ip-link-vxlan.flannel.json'))).toEqual({
      name: 'flannel.1',
      mtu: 1450,
      up: true,
      mac: '5e:a7:41:ad:09:74',
      vni: 1,
      port: 8472,
      local: '10.238.0.11',
      link: 'eth0',
    });
  });

  it('is undefined when the node has no such device (ip prints nothing, or a link of another kind)', () => {
    expect(parseVxlanLink('')).toBeUndefined();
    expect(parseVxlanLink('[{"ifname":"eth0","mtu":1500,"flags":["UP"]}]')).toBeUndefined();
  });
});

describe('parseFdb and parseNeighbours', () => {
  it("read the other node's VTEP: its MAC sent to its address, its subnet's gateway at its MAC", () => {
    expect(parseFdb(fixture('bridge-fdb.flannel.json'))).toEqual([{ mac: 'aa:b7:bd:5f:f9:4a', dst: '10.238.0.12' }]);
    expect(parseNeighbours(fixture('ip-neigh.flannel.json'))).toEqual([
      { dst: '10.226.2.0', lladdr: 'aa:b7:bd:5f:f9:4a', state: ['PERMANENT'] },
    ]);
  });
});

describe('flannelLease', () => {
  it("reads each node's lease from the kube subnet manager's annotations and its podCIDR", () => {
    const nodes = JSON.parse(fixture('nodes.flannel.json')) as { items: Parameters<typeof flannelLease>[0][] };
    expect(nodes.items.map(flannelLease)).toEqual([
      expect.objectContaining({
        node: 'fl-node-1',
        podCIDR: '10.226.1.0/24',
        backendType: 'vxlan',
        publicIP: '10.238.0.11',
        vni: 1,
      }),
      {
        node: 'fl-node-2',
        podCIDR: '10.226.2.0/24',
        backendType: 'vxlan',
        publicIP: '10.238.0.12',
        vtepMAC: 'aa:b7:bd:5f:f9:4a',
        vni: 1,
      },
    ]);
    expect(flannelLease({ metadata: { name: 'plain', annotations: {} } })).toBeUndefined();
  });
});
