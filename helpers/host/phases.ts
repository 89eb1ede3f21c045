// Where a run's time goes. A phase is a named span of wall-clock time (epoch milliseconds),
// appended as one JSON line to a file by whichever process lived it: the CLI, vitest's main
// process and its workers write to the same file (SVC_PHASES, settings.phasesFile). Without
// a file nothing is recorded. `npm run bench` reads the file back with phaseBreakdown().
import { appendFileSync, readFileSync } from 'node:fs';

/** The phases of a run, most specific first: where spans overlap, the earlier name gets the time. */
export const PHASES = [
  'pod starts',
  'rule waits',
  'namespaces',
  'teardown',
  'checks',
  'cluster check',
  'reports',
  'cli start',
  'vitest',
] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseSpan {
  phase: Phase;
  start: number;
  end: number;
  pid: number;
  what?: string;
}

let file: string | undefined;

/** Records this process's phases into `path` from now on (undefined: records nothing). */
export function recordPhasesTo(path: string | undefined): void {
  file = path;
}

export function notePhase(phase: Phase, start: number, end = Date.now(), what?: string): void {
  if (!file) return;
  const span: PhaseSpan = { phase, start, end, pid: process.pid, ...(what ? { what } : {}) };
  appendFileSync(file, `${JSON.stringify(span)}\n`);
}

/** Runs `work` as one span of `phase`, failed or not. */
export async function timePhase<T>(phase: Phase, what: string, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const start = Date.now();
  try {
    return await work();
  } finally {
    notePhase(phase, start, Date.now(), what);
  }
}

export function readPhases(path: string): PhaseSpan[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PhaseSpan);
}

export interface PhaseFigure {
  phase: string;
  /** Wall-clock time this phase holds when each moment goes to the most specific phase active then. */
  seconds: number;
  /** Wall-clock time with at least one span of this phase open (overlaps counted once). */
  openSeconds: number;
  /** Every span's length added up (parallel specs counted each). */
  summedSeconds: number;
  spans: number;
}

export interface PhaseBreakdown {
  /** First span's start to last span's end. */
  wallSeconds: number;
  /** In the order of the run; their `seconds` add up to wallSeconds. */
  phases: PhaseFigure[];
}

/**
 * Splits a run's wall-clock time between its phases. Each moment goes to the most specific
 * phase open then (PHASES' order), so the figures add up to the run's length. Time inside the
 * vitest process with no other phase open is named by when it falls: `vitest start` before
 * the first spec's first span, `vitest end` after the last one, `spec setup` in between
 * (creating objects, loading spec files); outside every span it is `other`.
 */
export function phaseBreakdown(spans: PhaseSpan[]): PhaseBreakdown {
  if (spans.length === 0) return { wallSeconds: 0, phases: [] };
  const inSpecs = spans.filter((s) => SPEC_PHASES.has(s.phase));
  const firstSpec = Math.min(...inSpecs.map((s) => s.start));
  const lastSpec = Math.max(...inSpecs.map((s) => s.end));
  const edges = [...new Set(spans.flatMap((s) => [s.start, s.end]))].sort((a, b) => a - b);
  const held = new Map<string, number>();
  for (let i = 0; i + 1 < edges.length; i++) {
    const [from, to] = [edges[i], edges[i + 1]];
    const open = spans.filter((s) => s.start <= from && s.end >= to).map((s) => s.phase);
    let name: string = PHASES.find((p) => open.includes(p)) ?? 'other';
    if (name === 'vitest') {
      if (inSpecs.length === 0 || to <= firstSpec) name = 'vitest start';
      else if (from >= lastSpec) name = 'vitest end';
      else name = 'spec setup';
    }
    held.set(name, (held.get(name) ?? 0) + (to - from));
  }
  const order = [
    'cli start',
    'cluster check',
    'vitest start',
    'namespaces',
    'pod starts',
    'rule waits',
    'checks',
    'spec setup',
    'teardown',
    'vitest end',
    'reports',
  ];
  const names = [...order.filter((n) => held.has(n)), ...[...held.keys()].filter((n) => !order.includes(n))];
  const phases = names.map((phase): PhaseFigure => {
    const own = spans.filter((s) => s.phase === phase);
    return {
      phase,
      seconds: seconds(held.get(phase) ?? 0),
      openSeconds: seconds(union(own)),
      summedSeconds: seconds(own.reduce((sum, s) => sum + (s.end - s.start), 0)),
      spans: own.length,
    };
  });
  const wall = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
  return { wallSeconds: seconds(wall), phases };
}

/** The phases a spec's own code lives through (inside vitest's workers). */
const SPEC_PHASES = new Set<Phase>(['pod starts', 'rule waits', 'namespaces', 'checks']);

function union(spans: PhaseSpan[]): number {
  let total = 0;
  let reach = -Infinity;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.end <= reach) continue;
    total += s.end - Math.max(s.start, reach);
    reach = s.end;
  }
  return total;
}

const seconds = (ms: number) => +(ms / 1000).toFixed(2);
