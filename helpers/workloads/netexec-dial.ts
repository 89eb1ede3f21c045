// Probes sent from inside a netexec pod, as upstream sends them: agnhost netexec's /dial makes the
// pod send `request` to host:port (over UDP, or as HTTP GET /request) on a new socket and answer
// what came back. From one of a Service's own backends this is its "from an endpoint" path.
import { hostPort } from '../address.js';
import type { Tally } from '../parse/svcprobe.js';
import type { ClientPod } from './client-pod.js';
import { HOSTNAMES_PORT } from './hostnames.js';

/** upstream's large messages: 2,000 bytes each (netexec's UDP server reads up to 2,048 and lowercases). */
export const LARGE_DATAGRAM = `n${'o'.repeat(1999)}`;
export const LARGE_REQUEST = '42'.repeat(1000);

/** What came back of echoed messages, by length: "3 × 2000 bytes", or "no echo". */
export function echoLengths(tally: Tally): string {
  return (
    Object.entries(tally.answers)
      .map(([text, n]) => `${n} × ${text.length} bytes`)
      .join(', ') || 'no echo'
  );
}

export interface DialTarget {
  protocol: 'udp' | 'http';
  host: string;
  port: number;
  /** What is sent: "hostname", "echo <text>", … (netexec's UDP commands), or an HTTP path. */
  request: string;
}

/**
 * `count` dials from the netexec pod at `from` (asked by `client` over HTTP, `concurrency` at once, on
 * `fromPort`: a hostNetwork netexec's own port), tallied as svcprobe tallies its own: each answer, and
 * each failure as netexec reported it.
 */
export async function dialFrom(
  client: ClientPod,
  from: string,
  target: DialTarget,
  count: number,
  fromPort = HOSTNAMES_PORT,
): Promise<Tally> {
  const query = new URLSearchParams({
    request: target.request,
    protocol: target.protocol,
    host: target.host,
    port: String(target.port),
    tries: '1',
  });
  const url = `http://${hostPort(from, fromPort)}/dial?${query.toString()}`;
  const asked = await client.http(url, { count, concurrency: Math.min(count, 16) });
  const tally: Tally = {
    target: `${hostPort(target.host, target.port)} from ${from}`,
    count,
    ok: 0,
    answers: {},
    errors: { ...asked.errors },
    sampleError: asked.sampleError,
    durationMs: asked.durationMs,
  };
  for (const [body, times] of Object.entries(asked.answers)) {
    const dialed = JSON.parse(body) as { responses?: string[]; errors?: string[] };
    for (const answer of dialed.responses ?? []) {
      tally.answers[answer] = (tally.answers[answer] ?? 0) + times;
      tally.ok += times;
    }
    if (dialed.errors?.length) {
      tally.errors!.dial = (tally.errors!.dial ?? 0) + times;
      tally.sampleError = dialed.errors[0];
    }
  }
  return tally;
}
