import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { notePhase, phaseBreakdown, readPhases, recordPhasesTo, timePhase, type PhaseSpan } from './phases.js';

const span = (phase: PhaseSpan['phase'], start: number, end: number, pid = 1): PhaseSpan => ({
  phase,
  start,
  end,
  pid,
});

describe('phaseBreakdown', () => {
  it('gives each moment to the most specific open phase, so the figures add up to the run', () => {
    // CLI 0–1 s, cluster check 1–1.5 s, vitest 1.5–10 s; two specs in parallel workers.
    const spans = [
      span('cli start', 0, 1000),
      span('cluster check', 1000, 1500),
      span('vitest', 1500, 10_000),
      span('namespaces', 4000, 4200, 2),
      span('namespaces', 4100, 4300, 3),
      span('pod starts', 4300, 7000, 2),
      span('pod starts', 4400, 7500, 3),
      span('rule waits', 7500, 7600, 3),
      span('checks', 7000, 8000, 2),
      span('checks', 7600, 9000, 3),
      span('teardown', 9000, 9500, 3),
      span('teardown', 10_000, 11_000),
      span('reports', 11_000, 11_200),
    ];
    const { wallSeconds, phases } = phaseBreakdown(spans);
    expect(wallSeconds).toBe(11.2);
    const held = Object.fromEntries(phases.map((p) => [p.phase, p.seconds]));
    expect(held).toEqual({
      'cli start': 1,
      'cluster check': 0.5,
      'vitest start': 2.5,
      namespaces: 0.3,
      'pod starts': 3.2,
      'rule waits': 0.1,
      checks: 1.4,
      teardown: 1.5,
      'vitest end': 0.5,
      reports: 0.2,
    });
    expect(phases.reduce((sum, p) => sum + p.seconds, 0)).toBeCloseTo(wallSeconds, 5);
    const pods = phases.find((p) => p.phase === 'pod starts')!;
    expect(pods).toMatchObject({ openSeconds: 3.2, summedSeconds: 5.8, spans: 2 });
  });

  it('names vitest time between specs spec setup, and time outside every span other', () => {
    const spans = [span('vitest', 0, 5000), span('checks', 1000, 2000, 2), span('checks', 3000, 4000, 2)];
    spans.push(span('reports', 6000, 7000));
    const held = Object.fromEntries(phaseBreakdown(spans).phases.map((p) => [p.phase, p.seconds]));
    expect(held).toEqual({ 'vitest start': 1, checks: 2, 'spec setup': 1, 'vitest end': 1, reports: 1, other: 1 });
  });

  it('is empty for no spans', () => {
    expect(phaseBreakdown([])).toEqual({ wallSeconds: 0, phases: [] });
  });
});

describe('recording', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phases-'));
  afterEach(() => recordPhasesTo(undefined));

  it('appends one line per span, a failed one too, and nothing without a file', async () => {
    const file = join(dir, 'phases.jsonl');
    await timePhase('checks', 'not recorded', () => Promise.resolve());
    recordPhasesTo(file);
    notePhase('cli start', 100, 200);
    await expect(timePhase('pod starts', 'ns/client', () => Promise.reject(new Error('never Ready')))).rejects.toThrow(
      'never Ready',
    );
    const spans = readPhases(file);
    expect(spans.map((s) => [s.phase, s.what])).toEqual([
      ['cli start', undefined],
      ['pod starts', 'ns/client'],
    ]);
    expect(spans[1].end).toBeGreaterThanOrEqual(spans[1].start);
    rmSync(dir, { recursive: true, force: true });
  });
});
