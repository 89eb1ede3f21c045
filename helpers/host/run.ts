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

/** A long-running command fed line by line: what it prints comes back line by line. */
export interface LineProcess {
  write(line: string): void;
  /** Closes its stdin: it finishes what it has and exits. */
  end(): void;
  lines: AsyncIterable<string>;
  done: Promise<ExecResult>;
}

/** Starts a command with its stdin and stdout as line streams; killed after timeoutMs (its bound). */
export function runLines(file: string, args: string[], options: RunOptions & { timeoutMs: number }): LineProcess {
  const started = Date.now();
  const child = execa(file, args, { reject: false, timeout: options.timeoutMs, stdin: 'pipe', buffer: false });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => void stderr.push(chunk.toString()));
  return {
    write: (line) => void child.stdin?.write(`${line}\n`),
    end: () => void child.stdin?.end(),
    lines: child.iterable({ from: 'stdout' }) as AsyncIterable<string>,
    done: child.then((r) => {
      const result: ExecResult = {
        command: [file, ...args].join(' '),
        exitCode: r.exitCode ?? (r.timedOut ? 124 : 128),
        stdout: '',
        stderr: stderr.join(''),
        durationMs: Date.now() - started,
      };
      if (result.exitCode !== 0 && !options.allowFailure) throw new CommandError(result, options.where);
      return result;
    }),
  };
}
