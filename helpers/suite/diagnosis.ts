// A spec names the Services it is about: useDiagnosis(ns, 'hostnames', ...). When one of its
// checks fails, the evidence of each is collected once, the verdict (guide section, cause,
// next step) is appended to every failure message of the describe, and the evidence goes to
// test-results/diagnostics/<spec>.md. Its state lives in the describe that asked for it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, type RunnerTestSuite } from 'vitest';
import { collectEvidence, type Evidence } from '../diagnose/evidence.js';
import { evidenceMarkdown } from '../diagnose/report.js';
import { formatVerdict, sectionTitled, verdict, type Verdict } from '../diagnose/verdict.js';
import { hasFailure, useCluster, type TaskLike } from './fixtures.js';

interface Diagnosis {
  evidence: Evidence[];
  /** The verdict of the first Service whose evidence shows a fault, else the first's. */
  verdict: Verdict;
}

export function useDiagnosis(namespace: string, ...services: string[]): void {
  const cluster = useCluster();
  let diagnosis: Promise<Diagnosis | undefined> | undefined;
  const diagnose = (section: string | undefined) =>
    (diagnosis ??= (async () => {
      const evidence = await Promise.all(services.map((service) => collectEvidence(cluster, namespace, service)));
      const fallback = sectionTitled(section);
      const verdicts = evidence.map((ev) => verdict(ev, cluster.capabilities.dnsIP, cluster.domain, fallback));
      return { evidence, verdict: verdicts.find((v) => !v.nothingFound) ?? verdicts[0] };
    })().catch(() => undefined));

  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail') return;
    const found = await diagnose(sectionOf(task));
    if (found) for (const error of task.result.errors ?? []) addVerdict(error, found.verdict);
  }, 60_000);

  // vitest passes fixtures first (destructured) and the describe's suite second.
  // eslint-disable-next-line no-empty-pattern
  afterAll(async ({}, suite) => {
    const describe = suite as RunnerTestSuite & { file?: { filepath: string } };
    if (!hasFailure(describe as unknown as TaskLike)) return;
    const found = await diagnose(sectionOf({ suite: describe }) ?? describe.name);
    if (!found) return;
    // A failed beforeAll has no check to carry the verdict: put it on the hook's errors.
    for (const task of [describe, ...describe.tasks])
      for (const error of task.result?.errors ?? []) addVerdict(error, found.verdict);
    const dir = join(cluster.settings.resultsDir, 'diagnostics');
    mkdirSync(dir, { recursive: true });
    const spec = basename(describe.file?.filepath ?? describe.name, '.spec.ts');
    const pages = found.evidence.map((ev) =>
      evidenceMarkdown(`${spec}: diagnosis of ${ev.namespace}/${ev.service}`, ev, found.verdict),
    );
    writeFileSync(join(dir, `${spec}.md`), pages.join('\n'));
  }, 60_000);
}

/** The describe around a task whose name is a guide section (the spec's section). */
function sectionOf(task: { suite?: { name: string; suite?: unknown } }): string | undefined {
  for (let suite = task.suite; suite; suite = suite.suite as typeof suite)
    if (sectionTitled(suite.name)) return suite.name;
  return undefined;
}

/** Appends the verdict to an error's message, once. */
function addVerdict(error: { message: string }, v: Verdict): void {
  const line = formatVerdict(v);
  if (!error.message.includes(line)) error.message = `${error.message}\n${line}`;
}
