// A client pod that looks names up and sends requests the way an application does
// (svcprobe: Go's resolver with the pod's search list and ndots; a new connection per
// request). Every call returns a named outcome; the spec decides what it expects.
import type * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { execInPod } from '../kube/exec.js';
import { describePod, isPodReady } from '../kube/pods.js';
import { unschedulableForGood } from '../kube/stuck.js';
import { GiveUp, waitFor } from '../kube/wait.js';
import { timePhase } from '../host/phases.js';
import {
  parseProbeOutput,
  type DialResult,
  type FlowResult,
  type LookupResult,
  type Tally,
} from '../parse/svcprobe.js';
import { runLabels } from './labels.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

export type { DialResult, FlowResult, LookupResult, Tally };

export interface ClientPodOptions {
  name?: string;
  /** Pin the pod to a node. */
  node?: string;
  /** How long it may take to turn Ready (the settings' podsReady budget unless given). */
  readyWithinMs?: number;
  /** Extra labels, beside the run's and role=client. */
  labels?: Record<string, string>;
  /** Changes the pod before it is made (its dnsPolicy and dnsConfig, say). */
  tweak?: (pod: k8s.V1Pod) => void;
}

export class ClientPod {
  constructor(
    private readonly cluster: Cluster,
    readonly namespace: string,
    readonly name: string,
    readonly node: string,
    readonly ip: string,
  ) {}

  /** The addresses NAME resolves to, sorted; throws with the outcome when it does not resolve. */
  async lookup(name: string): Promise<string[]> {
    const result = await this.resolve(name);
    if (result.outcome !== 'ok')
      throw new Error(
        `lookup of "${name}" from pod ${this.name} (ns ${this.namespace}) gave ${result.outcome}: ${result.error}`,
      );
    return [...(result.addrs ?? [])].sort();
  }

  /** The full result of a lookup, for checks that expect a failure. */
  /** `tcp`: ask over TCP only (else UDP, as applications do), to test the two protocols apart. */
  /** `srv`: the SRV records of `name`; `ptr`: the reverse (PTR) names of the address `name`. */
  resolve(
    name: string,
    options: { cname?: boolean; srv?: boolean; ptr?: boolean; server?: string; tcp?: boolean } = {},
  ): Promise<LookupResult> {
    const args = [
      'lookup',
      name,
      ...(options.cname ? ['--cname'] : []),
      ...(options.srv ? ['--srv'] : []),
      ...(options.ptr ? ['--ptr'] : []),
      ...(options.tcp ? ['--tcp'] : []),
      ...(options.server ? ['--server', options.server] : []),
    ];
    return this.probe<LookupResult>(args);
  }

  /** GETs url `count` times with `concurrency` in flight; each body (a pod name) is tallied. */
  http(url: string, options: { count?: number; concurrency?: number } = {}): Promise<Tally> {
    return this.probe<Tally>([
      'http',
      url,
      `--count=${options.count ?? 1}`,
      `--concurrency=${options.concurrency ?? 1}`,
    ]);
  }

  udp(address: string, options: { count?: number } = {}): Promise<Tally> {
    return this.probe<Tally>(['udp', address, `--count=${options.count ?? 1}`]);
  }

  /** A datagram every `intervalMs` from source port `localPort`; the same port again continues the same flow. */
  udpFlow(address: string, options: { count: number; intervalMs: number; localPort: number }): Promise<FlowResult> {
    return this.probe<FlowResult>([
      'udp-flow',
      address,
      `--count=${options.count}`,
      `--interval=${options.intervalMs}ms`,
      `--local-port=${options.localPort}`,
    ]);
  }

  dial(address: string): Promise<DialResult> {
    return this.probe<DialResult>(['dial', address]);
  }

  /** Dials until the outcome is `expected` or the budget ends; returns the last result for the caller to judge. */
  async dialUntil(address: string, expected: DialResult['outcome']): Promise<DialResult> {
    let last: DialResult | undefined;
    try {
      await waitFor(
        `${address} giving ${expected} from pod ${this.name}`,
        this.cluster.settings.timeouts.serviceSync,
        async () => {
          last = await this.dial(address);
          return { done: last.outcome === expected, seen: `${last.outcome} ${last.error ?? ''}` };
        },
      );
    } catch {
      // the caller's expectation reports what was seen last
    }
    return last!;
  }

  async readFile(path: string): Promise<string> {
    return (await execInPod(this.cluster.kube, { namespace: this.namespace, name: this.name }, ['cat', path])).stdout;
  }

  private async probe<T>(args: string[]): Promise<T> {
    const timeout = `${this.cluster.settings.timeouts.probe}ms`;
    const result = await execInPod(
      this.cluster.kube,
      { namespace: this.namespace, name: this.name },
      ['/svcprobe', ...args, `--timeout=${timeout}`],
      {
        timeoutMs: 120_000,
      },
    );
    return parseProbeOutput<T>(
      result.stdout,
      args.join(' '),
      `in pod ${this.name} (ns ${this.namespace})`,
      result.stderr,
    );
  }
}

export async function startClientPod(
  cluster: Cluster,
  namespace: string,
  options: ClientPodOptions = {},
): Promise<ClientPod> {
  const name = options.name ?? 'client';
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: runLabels(cluster.runId, { role: 'client', ...options.labels }) },
    spec: {
      terminationGracePeriodSeconds: 1,
      nodeName: options.node,
      securityContext: RESTRICTED_POD,
      containers: [
        {
          name: 'client',
          image: cluster.settings.images.client,
          imagePullPolicy: 'IfNotPresent',
          securityContext: RESTRICTED_CONTAINER,
        },
      ],
    },
  };
  options.tweak?.(pod);
  await cluster.kube.apply(pod);
  const ready = await timePhase('pod starts', `${namespace}/${name}`, () =>
    waitFor(
      `client pod ${namespace}/${name} running`,
      options.readyWithinMs ?? cluster.settings.timeouts.podsReady,
      async () => {
        const p = await cluster.kube.core.readNamespacedPod({ namespace, name });
        const stuck = p.spec?.nodeName
          ? undefined
          : unschedulableForGood(p, (await cluster.kube.core.listNode()).items);
        if (stuck) throw new GiveUp(`client pod ${namespace}/${name}: ${stuck}`);
        return { done: isPodReady(p) && !!p.status?.podIP, seen: describePod(p), value: p };
      },
    ),
  );
  return new ClientPod(cluster, namespace, name, ready.spec!.nodeName!, ready.status!.podIP!);
}
