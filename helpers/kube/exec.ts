// Runs a command in a pod's container through the API server (the same path as
// `kubectl exec`) and returns { command, exitCode, stdout, stderr, durationMs }.
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { CommandError, type ExecResult } from '../host/run.js';
import type { Kube } from './client.js';

export interface PodRef {
  namespace: string;
  name: string;
  container?: string;
}

export async function execInPod(
  kube: Kube,
  pod: PodRef,
  command: string[],
  options: { allowFailure?: boolean; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const exec = new k8s.Exec(kube.config);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `\`${command.join(' ')}\` in pod ${pod.name} (ns ${pod.namespace}) did not finish within ${timeoutMs}ms`,
          ),
        ),
      timeoutMs,
    );
    exec
      .exec(
        pod.namespace,
        pod.name,
        pod.container ?? '',
        command,
        sink((s) => (stdout += s)),
        sink((s) => (stderr += s)),
        null,
        false,
        (st) => {
          clearTimeout(timer);
          resolve(st);
        },
      )
      .then(
        (ws) =>
          ws.on('error', (e: Error) => {
            clearTimeout(timer);
            reject(e);
          }),
        (e) => {
          clearTimeout(timer);
          reject(execError(pod, e));
        },
      );
  });
  const result: ExecResult = {
    command: command.join(' '),
    exitCode: exitCodeOf(status),
    stdout: stdout.trimEnd(),
    stderr: stderr.trimEnd(),
    durationMs: Date.now() - started,
  };
  if (result.exitCode !== 0 && !options.allowFailure)
    throw new CommandError(result, `in pod ${pod.name} (ns ${pod.namespace})`);
  return result;
}

/** The client rejects a refused exec with an event or status object, not an Error: name the pod and what the API said. */
function execError(pod: PodRef, e: unknown): Error {
  if (e instanceof Error) return e;
  const said = (e as { message?: string })?.message ?? JSON.stringify(e);
  return new Error(
    `exec in pod ${pod.name} (ns ${pod.namespace}${pod.container ? `, container ${pod.container}` : ''}) refused: ${said}`,
  );
}

function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message ? Number(cause.message) : 1;
}
