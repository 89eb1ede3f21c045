// Runs a command on this machine and returns what every exec in the project returns:
// { command, exitCode, stdout, stderr, durationMs }. A failure throws CommandError, whose
// message names the command, where it ran and its output.
import { execa } from 'execa';

export interface ExecResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Where the command ran, for messages ("in netns svc-n1", "in pod client (ns dns-x7f)"). */
  where?: string;
  /** Do not throw on a non-zero exit; the caller reads exitCode. */
  allowFailure?: boolean;
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export class CommandError extends Error {
  constructor(
    readonly result: ExecResult,
    where: string | undefined,
  ) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-8).join('\n');
    super(`\`${result.command}\`${where ? ` ${where}` : ''} exited ${result.exitCode}${output ? `:\n${output}` : ''}`);
    this.name = 'CommandError';
  }

  /** One line for a summary table. */
  get shortMessage(): string {
    return this.message.split('\n')[0];
  }
}

export async function run(file: string, args: string[], options: RunOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  const child = await execa(file, args, {
    reject: false,
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
    env: options.env,
    stripFinalNewline: true,
  });
  const result: ExecResult = {
    command: [file, ...args].join(' '),
    exitCode: child.exitCode ?? (child.timedOut ? 124 : 128),
    stdout: String(child.stdout ?? ''),
    stderr: child.timedOut
      ? `timed out after ${options.timeoutMs ?? 120_000}ms\n${child.stderr ?? ''}`
      : String(child.stderr ?? ''),
    durationMs: Date.now() - started,
  };
  if (result.exitCode !== 0 && !options.allowFailure) throw new CommandError(result, options.where);
  return result;
}
