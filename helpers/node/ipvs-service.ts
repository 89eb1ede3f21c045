// Judges kube-proxy's IPVS virtual server for one Service port against the endpoints it must
// send to, from `ipvsadm -Ln` text: what the ipvs check of kube-proxy-rules.spec.ts asserts, as
// a pure function so that a unit test runs it on ipvsadm output (this kernel has no IP_VS).
import { hostPort } from '../address.js';
import { parseIpvsadm, type IpvsRealServer, type IpvsVirtualServer } from '../parse/ipvsadm.js';

export interface IpvsServicePort {
  protocol: IpvsVirtualServer['protocol'];
  clusterIP: string;
  port: number;
}

/** Where a virtual server sends new connections: its real servers of non-zero weight (kube-proxy weighs terminating ones 0). */
export function ipvsDestinations(server: IpvsVirtualServer | undefined): string[] {
  return (server?.realServers ?? [])
    .filter((r) => r.weight > 0)
    .map((r) => hostPort(r.address, r.port))
    .sort();
}

/**
 * What is wrong with the Service port's virtual server ([] when nothing): missing, sending to other
 * addresses than `destinations` ("10.244.1.3:9376"), or forwarding otherwise than by NAT (kube-proxy
 * always masquerades: the pod port differs from the Service port).
 */
export function ipvsServiceProblems(ipvsadm: string, service: IpvsServicePort, destinations: string[]): string[] {
  const vip = `${service.protocol} ${hostPort(service.clusterIP, service.port)}`;
  const servers = parseIpvsadm(ipvsadm);
  const matching = servers.filter(
    (s) => s.protocol === service.protocol && s.address === service.clusterIP && s.port === service.port,
  );
  if (matching.length !== 1) {
    const listed = servers.map((s) => `${s.protocol} ${hostPort(s.address, s.port)}`).join(', ') || 'none';
    return [`${matching.length} virtual servers ${vip}, not 1 (virtual servers: ${listed})`];
  }
  const [server] = matching;
  const problems: string[] = [];
  const want = [...destinations].sort();
  const seen = ipvsDestinations(server);
  if (seen.join() !== want.join())
    problems.push(
      `${vip} sends to ${seen.join(', ') || 'no real server'}; the endpoints are ${want.join(', ') || 'none'}`,
    );
  const notNat = server.realServers.filter((r) => r.forward !== 'Masq');
  if (notNat.length) problems.push(`${vip}: real servers not masqueraded: ${notNat.map(describe).join(', ')}`);
  return problems;
}

function describe(real: IpvsRealServer): string {
  return `${hostPort(real.address, real.port)} ${real.forward} weight ${real.weight}`;
}
