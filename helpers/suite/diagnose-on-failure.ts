// vitest setup file for the suites: when a check fails, collect the evidence for the
// spec's Service once, append the verdict (guide section, cause, next step) to the failure
// message, and write test-results/diagnostics/<spec>.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, inject, type RunnerTestSuite } from 'vitest';
import { resultsDir } from '../config.js';
import { collectEvidence, type Evidence } from '../diagnose/evidence.js';
import { evidenceMarkdown } from '../diagnose/report.js';
import { formatVerdict, sectionTitled, verdict, type Verdict } from '../diagnose/verdict.js';
import { diagnosisTarget, forgetDiagnosisTarget } from './diagnosis-target.js';

let diagnosis: Promise<{ ev: Evidence; v: Verdict } | undefined> | undefined;
let failed = false;

// One worker runs several spec files in the same module scope (isolate: false): start each file afresh.
beforeAll(() => {
  diagnosis = undefined;
  failed = false;
  forgetDiagnosisTarget();
});

function diagnose(section: string | undefined): Promise<{ ev: Evidence; v: Verdict } | undefined> {
  diagnosis ??= (async () => {
    const target = diagnosisTarget();
    if (!target) return undefined;
    const cluster = inject('cluster');
    const ev = await collectEvidence(cluster, target.namespace, target.service);
    return { ev, v: verdict(ev, cluster.capabilities.dnsIP, cluster.capabilities.clusterDomain, sectionTitled(section)) };
  })().catch(() => undefined);
  return diagnosis;
}

/** The describe around a task whose name is a guide section (the spec's section). */
function topSection(task: { suite?: { name: string; suite?: unknown } }): string | undefined {
  for (let suite = task.suite; suite; suite = suite.suite as typeof suite) if (sectionTitled(suite.name)) return suite.name;
  return undefined;
}

/** Appends the verdict to an error's message, once (a test outside any describe is met twice). */
function addVerdict(error: { message: string }, v: Verdict): void {
  const line = formatVerdict(v);
  if (!error.message.includes(line)) error.message = `${error.message}\n${line}`;
}

afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  failed = true;
  const d = await diagnose(topSection(task));
  if (!d) return;
  for (const error of task.result.errors ?? []) addVerdict(error, d.v);
}, 60_000);

// vitest passes fixtures first (destructured) and the file's suite second.
// eslint-disable-next-line no-empty-pattern
afterAll(async ({}, file) => {
  const suite = file as RunnerTestSuite & { file?: { filepath: string } };
  const hookFailed = JSON.stringify(suite.result?.errors ?? []) !== '[]' || suite.tasks.some((t) => t.result?.state === 'fail');
  if (!failed && !hookFailed) return;
  const d = await diagnose(suite.tasks.find((t) => t.type === 'suite')?.name);
  if (!d) return;
  const dir = join(resultsDir, 'diagnostics');
  mkdirSync(dir, { recursive: true });
  // A failed beforeAll has no check to carry the verdict: put it on the hook's errors.
  for (const task of [suite, ...suite.tasks]) for (const error of task.result?.errors ?? []) addVerdict(error, d.v);
  const spec = basename(suite.file?.filepath ?? suite.name, '.spec.ts');
  writeFileSync(join(dir, `${spec}.md`), evidenceMarkdown(`${spec}: diagnosis`, d.ev, d.v));
}, 60_000);
