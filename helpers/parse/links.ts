// `ip -o link show` output, one link per line (-o joins each link's lines with "\" and spaces):
//   4: veth1c356ec7@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master cni0 state UP mode DEFAULT group default \    link/ether d2:3e:… link-netnsid 1
export interface IpLink {
  name: string;
  index: number;
  mtu: number;
  /** The bridge (or bond) it is enslaved to: `master cni0`. */
  master?: string;
  /** Administratively up: UP among the flags (`ip link set … up`). Whether it carries traffic: `state`. */
  up: boolean;
  /** The `@ifN` of a veth: the index of its peer, in the netns the peer lives in. */
  peerIndex?: number;
  /** The `@NAME` of a VLAN or macvlan: the link it sits on. */
  parent?: string;
  /** The operational state: UP, DOWN, UNKNOWN (lo, tunnels), LOWERLAYERDOWN (a veth whose peer is down). */
  state?: string;
  /** Every flag between < and >: BROADCAST, MULTICAST, UP, LOWER_UP, NO-CARRIER, … */
  flags: string[];
  /** link/ether, link/loopback, link/none, … without `link/`. */
  linkType?: string;
  /** The MAC address (link/ether's). */
  address?: string;
  /** The netns the peer lives in: by name (`link-netns svc-n1`) or by id (`link-netnsid 1`). */
  linkNetns?: string;
}

// Why: the node's interfaces — a bridge whose veths are down, an MTU that differs from its peers'.
export function parseIpLink(text: string): IpLink[] {
  const links: IpLink[] = [];
  for (const rawLine of text.split('\n')) {
    const match = LINE.exec(rawLine.trim());
    if (!match) continue;
    const [, index, name, at, flagText, rest] = match;
    const words = rest.replace(/\\/g, ' ').split(/\s+/).filter(Boolean);
    const after = (word: string) => {
      const i = words.indexOf(word);
      return i >= 0 && i + 1 < words.length ? words[i + 1] : undefined;
    };
    const flags = flagText === '' ? [] : flagText.split(',');
    const linkWord = words.findIndex((word) => word.startsWith('link/'));
    const peer = at && /^if(\d+)$/.exec(at);
    const address = linkWord >= 0 ? words[linkWord + 1] : undefined;
    links.push(
      withoutUndefined({
        name,
        index: Number(index),
        mtu: Number(after('mtu')),
        master: after('master'),
        up: flags.includes('UP'),
        peerIndex: peer ? Number(peer[1]) : undefined,
        parent: at && !peer && at !== 'NONE' ? at : undefined,
        state: after('state'),
        flags,
        linkType: linkWord >= 0 ? words[linkWord].slice('link/'.length) : undefined,
        address: address && /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(address) ? address : undefined,
        linkNetns: after('link-netns') ?? after('link-netnsid'),
      }),
    );
  }
  return links;
}

// "4: name@if2: <FLAGS> rest": index, name, the part after @, flags, the rest.
const LINE = /^(\d+):\s+([^\s@:]+)(?:@([^\s:]+))?:\s+<([^>]*)>\s*(.*)$/;

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
