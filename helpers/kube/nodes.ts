// The addresses a node may use as the source of traffic it forwards: its InternalIP, and
// the first address of its pod range (the bridge address a CNI gives the node, which
// masquerade picks when the backend sits on that node).
import type { Kube } from './client.js';

export async function nodeAddresses(kube: Kube): Promise<Map<string, string[]>> {
  const nodes = await kube.core.listNode();
  return new Map(
    nodes.items.map((node) => {
      const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
      const gateways = (node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])).map(firstHost).filter((a): a is string => !!a);
      return [node.metadata!.name!, [...internal, ...gateways]];
    }),
  );
}

/** "10.244.1.0/24" → "10.244.1.1"; IPv6 ranges are left out (undefined). */
export function firstHost(cidr: string): string | undefined {
  return hostInRange(cidr, 1);
}

/** hostInRange("10.251.0.0/24", 10) → "10.251.0.10"; undefined for IPv6 or past the range's end. */
export function hostInRange(cidr: string, offset: number): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m || offset >= 2 ** (32 - Number(m[5]))) return undefined;
  const n = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const next = n + offset;
  return [next >>> 24, (next >>> 16) & 255, (next >>> 8) & 255, next & 255].join('.');
}
