// "10.244.1.3:9376" or "[fd00::3]:9376": an address with its port as kube-proxy's rules, the
// EndpointSlices and URLs write it, whatever the family.
export function hostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** "10.250.0.11:41234" → "10.250.0.11", "[fd00::3]:80" → "fd00::3": the inverse of hostPort. */
export function hostOf(address: string): string {
  return address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** An address's family as Kubernetes names it ("fd00::3", "fd00::/64" → IPv6): the family of its ClusterIP, slice, rules. */
export function familyOf(address: string): 'IPv4' | 'IPv6' {
  return address.includes(':') ? 'IPv6' : 'IPv4';
}
