// What svcprobe (the suites' client program, setup/go/svcprobe) prints: one JSON object per
// call with a named outcome. The same shapes come from a client pod, a node and the external
// client; the caller decides what a result means.

export interface LookupResult {
  name: string;
  outcome: 'ok' | 'nxdomain' | 'dns-timeout' | 'dns-error';
  addrs?: string[];
  cname?: string;
  /** `lookup --srv`: the name's SRV records; each target is absolute (ends in a dot). */
  srv?: SrvRecord[];
  /** `lookup --ptr ADDRESS`: the names its reverse record points at (absolute when they came from DNS). */
  ptr?: string[];
  error?: string;
}

export interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface Tally {
  target: string;
  count: number;
  ok: number;
  /** Each answer (for hostnames: a pod name) and how often it came. */
  answers: Record<string, number>;
  errors?: Record<string, number>;
  sampleError?: string;
  durationMs: number;
}

/** One UDP flow (one source port, so one conntrack entry): each reply or failure kind, in order. */
export interface FlowResult {
  target: string;
  local: string;
  sequence: string[];
  durationMs: number;
}

export interface DialResult {
  target: string;
  outcome: 'ok' | 'refused' | 'unreachable' | 'timeout' | 'reset' | 'error';
  error?: string;
  durationMs: number;
}

/** svcprobe's one line of JSON; `where` names the pod or node in the error when it printed nothing. */
export function parseProbeOutput<T>(stdout: string, what: string, where: string, stderr = ''): T {
  if (!stdout.trim()) throw new Error(`\`svcprobe ${what}\` ${where} printed nothing (stderr: ${stderr.trim()})`);
  return JSON.parse(stdout) as T;
}
