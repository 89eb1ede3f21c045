// kube-proxy's health check of a Service with externalTrafficPolicy: Local, asked the way a load
// balancer asks it: GET http://<node>:<healthCheckNodePort>/ answers 200 and the node's count of
// local endpoints when it has a ready one, 503 when it has none (or only terminating ones), and
// nothing listens there once the Service no longer holds the port.
import { STATUS_CODES } from 'node:http';
import { hostPort } from '../address.js';
import type { Cluster } from '../cluster/cluster.js';
import { probeUntil } from '../kube/probe-until.js';
import type { ClientPod } from './client-pod.js';

export interface HealthCheck {
  /** "200", "503" (another status by its code), or how the connection failed: "refused", "timeout", … */
  answer: string;
  /** localEndpoints in a 200 answer's body. */
  localEndpoints?: number;
  /** The Service the 200 answer names, namespace/name. */
  service?: string;
  /** The answer in words, for a failure message. */
  detail: string;
}

const CODES = new Map(Object.entries(STATUS_CODES).map(([code, text]) => [`HTTP status ${text}`, code]));

/** One GET of the health check at `node`:`port` from the client pod. */
export async function readHealthCheck(client: ClientPod, node: string, port: number): Promise<HealthCheck> {
  const url = `http://${hostPort(node, port)}/`;
  const tally = await client.http(url);
  if (tally.ok === 1) {
    const body = Object.keys(tally.answers)[0] ?? '';
    let parsed: { service?: { namespace?: string; name?: string }; localEndpoints?: number } = {};
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      // not kube-proxy's answer: the detail shows it
    }
    const service = parsed.service && `${parsed.service.namespace}/${parsed.service.name}`;
    return { answer: '200', localEndpoints: parsed.localEndpoints, service, detail: `${url}: 200 ${body}` };
  }
  const failure = Object.keys(tally.errors ?? {})[0] ?? 'no answer';
  const answer = failure === 'http-status' ? (CODES.get(tally.sampleError ?? '') ?? failure) : failure;
  return { answer, detail: `${url}: ${answer} (${tally.sampleError ?? 'no error given'})` };
}

/** Asks the health check until it gives `answer` or the Service sync budget is spent; returns the last reading. */
export function waitForHealthCheck(
  cluster: Cluster,
  client: ClientPod,
  node: string,
  port: number,
  answer: string,
): Promise<HealthCheck> {
  return probeUntil(
    `health check ${hostPort(node, port)} answering ${answer} to pod ${client.name}`,
    cluster.settings.timeouts.serviceSync,
    () => readHealthCheck(client, node, port),
    (reading) => reading.answer === answer,
    (reading) => reading.detail,
  );
}
