import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { iptablesFirewall } from '../parse/firewall.js';
import { parseSubnetEnv } from '../parse/subnet-env.js';
import { flannelLease, parseFdb, parseNeighbours, parseVxlanLink, type FlannelLease } from '../parse/vxlan.js';
import { nodeSettings, type NodeLayer } from './node-layer.js';
import { dropsVxlan, overlayMtuProblem, overlaySettings, peerProblems, type OverlayLayer } from './overlay.js';

// Recorded on fl-node-1 of a two-node flannel cluster (pods 10.226.0.0/16, nodes 10.238.0.0/24): see the fixtures README.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../parse/fixtures', name), 'utf8');
const device = parseVxlanLink(fixture('ip-link-vxlan.flannel.json'))!;
const fdb = parseFdb(fixture('bridge-fdb.flannel.json'));
const neighbours = parseNeighbours(fixture('ip-neigh.flannel.json'));
const leases = (JSON.parse(fixture('nodes.flannel.json')) as { items: Parameters<typeof flannelLease>[0][] }).items
  .map(flannelLease)
  .filter((l): l is FlannelLease => !!l);
const node2 = leases.find((l) => l.node === 'fl-node-2')!;
const POD_LINKS = [
  { link: 'cni0', mtu: 1450 },
  { link: 'vethc769ed89', mtu: 1450 },
];

const overlay = (change: Partial<OverlayLayer> = {}): OverlayLayer => ({
  device,
  fdb,
  neighbours,
  flanneld: [{ pid: 4242, state: 'S', ageSeconds: 300, subnetFile: '/run/flannel/subnet.env' }],
  subnetFile: '/run/flannel/subnet.env',
  subnetEnv: parseSubnetEnv(fixture('subnet.env.flannel')),
  peers: [{ lease: node2, problems: peerProblems(device, fdb, neighbours, node2) }],
  allowedMtu: 1450,
  underlayMtu: 1500,
  oversized: [],
  ...change,
});

const layer = (o: OverlayLayer, change: Partial<NodeLayer> = {}): NodeLayer => ({
  node: 'fl-node-1',
  rpFilter: {},
  firewall: [],
  podRoutes: [],
  mtus: [
    { link: 'eth0', mtu: 1500, pods: false },
    { link: 'flannel.1', mtu: 1450, pods: false },
    ...POD_LINKS.map((l) => ({ ...l, pods: true })),
  ],
  overlay: o,
  errors: [],
  ...change,
});

describe('peerProblems', () => {
  it("finds the other node's VTEP in the recorded FDB and neighbour table", () => {
    expect(peerProblems(device, fdb, neighbours, node2)).toEqual([]);
  });

  it('names a missing FDB entry, an FDB entry to another address and a missing neighbour', () => {
    expect(peerProblems(device, [], neighbours, node2)).toEqual([
      "no FDB entry on flannel.1 for fl-node-2's VTEP aa:b7:bd:5f:f9:4a",
    ]);
    expect(peerProblems(device, [{ mac: 'aa:b7:bd:5f:f9:4a', dst: '10.238.0.99' }], [], node2)).toEqual([
      "flannel.1's FDB sends fl-node-2's VTEP aa:b7:bd:5f:f9:4a to 10.238.0.99, not 10.238.0.12",
      "no neighbour entry on flannel.1 for 10.226.2.0 (fl-node-2's subnet gateway)",
    ]);
  });
});

describe('overlaySettings', () => {
  it('finds nothing on a node whose overlay is as flanneld left it', () => {
    expect(overlaySettings('fl-node-1', overlay())).toEqual([]);
    expect(nodeSettings(layer(overlay()))).toEqual([]);
  });

  it('blames flanneld when it is not running and the VXLAN device is gone, for every cross-node pattern', () => {
    const [setting] = overlaySettings(
      'fl-node-2',
      overlay({ device: undefined, flanneld: [], fdb: [], neighbours: [] }),
    );
    expect(setting.setting).toBe(
      "flanneld is not running on fl-node-2, there is no VXLAN device (flannel.1) on fl-node-2, though the other nodes' leases are VXLAN",
    );
    expect(setting.explains).toEqual(['route', 'routes', 'forwarding', 'filtering']);
    expect(setting.next).toMatch(/^start flanneld on fl-node-2/);
  });

  it("names the peer whose FDB entry is missing, and flanneld's absence with it", () => {
    const broken = overlay({
      flanneld: [],
      peers: [{ lease: node2, problems: peerProblems(device, [], neighbours, node2) }],
    });
    expect(overlaySettings('fl-node-1', broken)).toEqual([
      expect.objectContaining({
        toNode: 'fl-node-2',
        setting:
          "no FDB entry on flannel.1 for fl-node-2's VTEP aa:b7:bd:5f:f9:4a (on fl-node-1, where flanneld is not running on fl-node-1)",
        explains: ['route', 'routes'],
      }),
    ]);
  });
});

describe('a host firewall dropping VXLAN', () => {
  // iptables-save of a node with `iptables -I INPUT -p udp --dport 8472 -j DROP` (recorded, see the fixtures README).
  const findings = iptablesFirewall(fixture('iptables-save.vxlan-drop.txt'), {
    podCIDRs: ['10.226.0.0/16'],
    serviceCIDRs: ['10.114.0.10/32'],
  }).filter((f) => f.affectsCluster);

  it('is a finding that drops UDP 8472 on the node itself, and explains every cross-node pattern', () => {
    expect(findings.filter((f) => dropsVxlan(f, overlay())).map((f) => f.text)).toEqual([
      '-A INPUT -p udp -m udp --dport 8472 -j DROP',
    ]);
    const settings = nodeSettings(layer(overlay(), { firewall: findings }));
    expect(settings).toEqual([
      expect.objectContaining({
        setting:
          "iptables filter INPUT on fl-node-1: -A INPUT -p udp -m udp --dport 8472 -j DROP (drops the overlay's VXLAN traffic, UDP 8472, between the nodes)",
        explains: ['route', 'routes', 'forwarding', 'filtering'],
      }),
    ]);
  });

  it('is not read as dropping VXLAN on a node without an overlay', () => {
    expect(findings.some((f) => dropsVxlan(f, undefined))).toBe(false);
  });
});

describe('overlayMtuProblem', () => {
  it('says nothing while the pods fit the overlay', () => {
    expect(overlayMtuProblem('fl-node-1', overlay())).toBeUndefined();
  });

  it('names both MTUs when the underlay shrank under flannel.1 and the pods', () => {
    const shrunk = overlay({
      underlayMtu: 1400,
      allowedMtu: 1350,
      oversized: [{ link: 'flannel.1', mtu: 1450 }, ...POD_LINKS],
    });
    expect(overlayMtuProblem('fl-node-2', shrunk)).toBe(
      'MTU 1450 on fl-node-2 (flannel.1 1450, cni0 1450, vethc769ed89 1450) is larger than the overlay allows: eth0 (under flannel.1) has MTU 1400, so VXLAN carries 1350-byte packets at most (50 bytes of encapsulation); flannel gave the pods FLANNEL_MTU=1450 (/run/flannel/subnet.env). Packets between nodes larger than 1350 bytes are lost while small ones pass',
    );
  });

  it('names the pods and flannel.1 when the pods were given more than FLANNEL_MTU', () => {
    const wide = overlay({ oversized: [{ link: 'vethc769ed89', mtu: 1500 }] });
    expect(overlayMtuProblem('fl-node-1', wide)).toMatch(
      /^MTU 1500 on fl-node-1 \(vethc769ed89 1500\) is larger than the overlay allows: flannel.1 has MTU 1450/,
    );
  });
});
