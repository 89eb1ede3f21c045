// One line per DNS question a client pod asks, "NAME udp|tcp ANSWER", so a check compares every
// question's answer at once and its message shows each one (or the outcome where none came).
// The answers are sorted: DNS gives records in any order (CoreDNS's loadbalance rotates them).
import type { ClientPod, LookupResult } from './client-pod.js';

const protocol = (tcp: boolean) => (tcp ? 'tcp' : 'udp');
const failed = (answer: LookupResult) => `${answer.outcome} ${answer.error ?? ''}`.trim();

/** NAME's addresses (A and AAAA), asked over UDP or over TCP only. */
export async function answerLine(client: ClientPod, name: string, tcp: boolean): Promise<string> {
  const answer = await client.resolve(name, { tcp });
  const addrs = [...(answer.addrs ?? [])].sort().join(',');
  return `${name} ${protocol(tcp)} ${addrs || failed(answer)}`;
}

/** NAME's SRV records as TARGET:PORT (the target absolute, with its trailing dot). */
export async function srvLine(client: ClientPod, name: string, tcp: boolean): Promise<string> {
  const answer = await client.resolve(name, { srv: true, tcp });
  const records = (answer.srv ?? []).map((r) => `${r.target}:${r.port}`).sort();
  return `${name} ${protocol(tcp)} ${records.join(',') || failed(answer)}`;
}

/** The names the PTR record of ADDRESS points at. */
export async function ptrLine(client: ClientPod, address: string, tcp: boolean): Promise<string> {
  const answer = await client.resolve(address, { ptr: true, tcp });
  const names = [...(answer.ptr ?? [])].sort();
  return `${address} ${protocol(tcp)} ${names.join(',') || failed(answer)}`;
}

/** NAME's canonical name (the target of its CNAME). */
export async function cnameLine(client: ClientPod, name: string, tcp: boolean): Promise<string> {
  const answer = await client.resolve(name, { cname: true, tcp });
  return `${name} ${protocol(tcp)} ${answer.cname || failed(answer)}`;
}

/** The lines each name gives over UDP and then over TCP, in the order of `names`. */
export function overUdpAndTcp(
  client: ClientPod,
  names: string[],
  line: (client: ClientPod, name: string, tcp: boolean) => Promise<string>,
): Promise<string[]> {
  return Promise.all(names.flatMap((name) => [false, true].map((tcp) => line(client, name, tcp))));
}

/** What overUdpAndTcp gives when every name answers `want` over both protocols. */
export function eachOverUdpAndTcp(names: string[], want: (name: string) => string): string[] {
  return names.flatMap((name) => [`${name} udp ${want(name)}`, `${name} tcp ${want(name)}`]);
}
