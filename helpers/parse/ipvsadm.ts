// Parses `ipvsadm -Ln` output: each IPVS virtual server (a Service IP:port in kube-proxy's ipvs
// mode) with its scheduler, flags and real servers (the endpoints) and their connection counts.
export interface IpvsRealServer {
  address: string; // IPv6 without brackets
  port: number;
  forward: string; // Masq, Route, Tunnel, …
  weight: number;
  activeConn: number;
  inactConn: number;
}

export interface IpvsVirtualServer {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  address: string; // IPv6 without brackets: "[fd00::1]:80" → "fd00::1"
  port: number;
  scheduler: string; // rr, wrr, lc, …
  flags: string[]; // the rest of the line, e.g. ['persistent', '10800']
  realServers: IpvsRealServer[];
}

const VIRTUAL_SERVER = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$/;
const REAL_SERVER = /^\s+->\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)/;

// Why: in ipvs mode the kernel's virtual server table, not iptables, says where a Service IP goes.
// The version banner, the two header lines and fwmark (FWM) services are skipped.
export function parseIpvsadm(text: string): IpvsVirtualServer[] {
  const servers: IpvsVirtualServer[] = [];
  let current: IpvsVirtualServer | undefined;
  for (const line of text.split('\n').map((line) => line.trimEnd())) {
    const virtual = VIRTUAL_SERVER.exec(line);
    const real = REAL_SERVER.exec(line);
    if (virtual) {
      const [, protocol, hostPort, scheduler, rest] = virtual;
      const endpoint = splitHostPort(hostPort);
      current = endpoint && {
        protocol: protocol as IpvsVirtualServer['protocol'],
        ...endpoint,
        scheduler,
        flags: rest.split(/\s+/).filter(Boolean),
        realServers: [],
      };
      if (current) servers.push(current);
    } else if (real && current) {
      const [, hostPort, forward, weight, activeConn, inactConn] = real;
      const endpoint = splitHostPort(hostPort);
      if (endpoint) {
        current.realServers.push({
          ...endpoint,
          forward,
          weight: Number(weight),
          activeConn: Number(activeConn),
          inactConn: Number(inactConn),
        });
      }
    } else if (!line.startsWith(' ')) current = undefined; // FWM services, headers: their real servers are not ours
  }
  return servers;
}

// "10.0.1.175:80" or "[fd00::1]:80" → { address, port }; undefined when there is no numeric port.
function splitHostPort(hostPort: string): { address: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(hostPort);
  return match ? { address: match[1], port: Number(match[2]) } : undefined;
}
