// SIGINT/SIGTERM during `run`/`test`: stop vitest and everything it started (its own
// process group, so no worker outlives it to create objects after the cleanup), then let
// the run clean up as after any other end. A second signal does not cut the cleanup short.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const SIGNAL_NUMBER = { SIGINT: 2, SIGTERM: 15 } as const;
/** How long vitest's workers get to exit on SIGTERM before SIGKILL. */
const GRACE_MS = 5_000;

export class Interrupt {
  signal?: 'SIGINT' | 'SIGTERM';
  private child?: ChildProcess;
  private readonly handler = (signal: 'SIGINT' | 'SIGTERM') => this.receive(signal);

  constructor() {
    process.on('SIGINT', this.handler).on('SIGTERM', this.handler);
  }

  /** The exit code of a run ended by this signal (128 + its number, as shells report it). */
  get exitCode(): number {
    return 128 + SIGNAL_NUMBER[this.signal ?? 'SIGTERM'];
  }

  /** Runs `child` (spawned detached: its own process group) until it and all its group exit. */
  async wait(child: ChildProcess): Promise<number> {
    this.child = child;
    if (this.signal) void stopGroup(child.pid!);
    const code = await new Promise<number>((resolve) =>
      child.on('exit', (c, s) => resolve(c ?? (s ? 128 + (SIGNAL_NUMBER[s as keyof typeof SIGNAL_NUMBER] ?? 9) : 1))),
    );
    await stopGroup(child.pid!); // workers left behind by an ended vitest, if any
    this.child = undefined;
    return code;
  }

  dispose(): void {
    process.off('SIGINT', this.handler).off('SIGTERM', this.handler);
  }

  private receive(signal: 'SIGINT' | 'SIGTERM'): void {
    if (this.signal) {
      console.error(`svc-conformance: ${signal} again: still removing what the run made, please wait`);
      return;
    }
    this.signal = signal;
    console.error(`svc-conformance: ${signal}: stopping the run, then removing what it made`);
    if (this.child?.pid) void stopGroup(this.child.pid);
  }
}

/** SIGTERM to a process group, SIGKILL to what is left after GRACE_MS; returns when the group is empty. */
async function stopGroup(pgid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) process.kill(-pgid, 'SIGKILL');
  // Zombies answer kill(0) until init reaps them, which can be late here: they cannot act, so stop looking.
  const reaped = Date.now() + 2_000;
  while (alive() && Date.now() < reaped) await sleep(50);
}
