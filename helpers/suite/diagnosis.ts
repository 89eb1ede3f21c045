// A spec names the Services it is about: useDiagnosis(ns, 'hostnames', ...). When one of its
// checks fails, the evidence of each is collected once, the verdict (guide section, cause,
// next step) is appended to every failure message of the describe, and the evidence goes to
// test-results/diagnostics/<spec>.md. Its state lives in the describe that asked for it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, type RunnerTestSuite } from 'vitest';
import { apiErrorLine } from '../cluster/attach.js';
import { collectEvidence, type Evidence } from '../diagnose/evidence.js';
import { evidenceMarkdown } from '../diagnose/report.js';
import type { Section } from '../diagnose/sections.js';
import { formatVerdict, sectionTitled, sectionVerdict, verdict, type Verdict } from '../diagnose/verdict.js';
import { hasFailure, useCluster, type TaskLike } from './fixtures.js';

interface Diagnosis {
  evidence: Evidence[];
  /** The lines of a project section's own evidence collector, per Service. */
  lines: string[][];
  /** The verdict of the first Service whose evidence shows a fault, else the first's, given the failed checks ("name: message"). */
  verdictFor: (failedChecks: string[]) => Verdict;
}

export function useDiagnosis(namespace: string, ...services: string[]): void {
  const cluster = useCluster();
  let diagnosis: Promise<Diagnosis | undefined> | undefined;
  const diagnose = (section: string | undefined, setupErrors: string[] = []) =>
    (diagnosis ??= (async () => {
      // One after the other: the path matrix's probe pods, made for the first Service, serve the next ones.
      const evidence: Evidence[] = [];
      for (const service of services)
        evidence.push(await collectEvidence(cluster, namespace, service, { probeNamespace: namespace, setupErrors }));
      const own = sectionTitled(section);
      const projectSection = typeof own === 'object' ? own : undefined;
      const lines = await Promise.all(services.map((name) => extraEvidence(projectSection, namespace, name)));
      const theirs = evidence.map((ev, i) => projectSection && sectionVerdict(projectSection, ev, lines[i]));
      // A spec makes most of its Services in its checks, so a focused run leaves some unmade: one that does not
      // exist names the cause only when none of the spec's Services does.
      const judged = evidence.some((ev) => ev.found) ? evidence.filter((ev) => ev.found) : evidence;
      const verdictFor = (failedChecks: string[]) => {
        const guide = judged.map((ev) => verdict(ev, cluster.capabilities.dnsIP, cluster.domain, own, failedChecks));
        const sections = theirs.find((v, i) => v && judged.includes(evidence[i]));
        return sections ?? guide.find((v) => !v.nothingFound) ?? guide[0];
      };
      return { evidence, lines, verdictFor };
    })().catch(() => undefined));

  afterEach(async ({ task }) => {
    if (task.result?.state !== 'fail') return;
    const found = await diagnose(sectionOf(task));
    if (found) {
      const v = found.verdictFor(failedChecks([task]));
      for (const error of task.result.errors ?? []) addVerdict(error, v);
    }
  }, 120_000);

  // vitest passes fixtures first (destructured) and the describe's suite second.
  // eslint-disable-next-line no-empty-pattern
  afterAll(async ({}, suite) => {
    const describe = suite as RunnerTestSuite & { file?: { filepath: string } };
    if (!hasFailure(describe as unknown as TaskLike)) return;
    // A failed beforeAll (the spec's setup) has no check to carry the verdict: it goes on the hook's errors,
    // which are cut to their one line (an API error's Status message, not its HTTP body and headers).
    const setupErrors = (describe.result?.errors ?? []) as SerializedError[];
    const lines = setupErrors.map((e) => apiErrorLine(e.message));
    for (const error of setupErrors) oneLine(error);
    const found = await diagnose(sectionOf({ suite: describe }) ?? describe.name, lines);
    if (!found) return;
    const v = found.verdictFor(failedChecks(describe.tasks));
    for (const task of [describe, ...describe.tasks])
      for (const error of task.result?.errors ?? []) addVerdict(error, v);
    const dir = join(cluster.settings.resultsDir, 'diagnostics');
    mkdirSync(dir, { recursive: true });
    const spec = basename(describe.file?.filepath ?? describe.name, '.spec.ts');
    const pages = found.evidence.map((ev, i) => {
      const page = evidenceMarkdown(`${spec}: diagnosis of ${ev.namespace}/${ev.service}`, ev, v);
      const lines = found.lines[i];
      return lines.length ? `${page}\n## ${describe.name}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n` : page;
    });
    writeFileSync(join(dir, `${spec}.md`), pages.join('\n'));
  }, 120_000);

  /** A project section's own evidence for one Service; a collector that fails says so in a line. */
  async function extraEvidence(own: Section | undefined, ns: string, name: string): Promise<string[]> {
    if (!own?.evidence) return [];
    return own
      .evidence(cluster, { namespace: ns, name })
      .catch((error: Error) => [`could not collect: ${error.message}`]);
  }
}

/** The describe around a task whose name is a section, the guide's or a project's (the spec's section). */
function sectionOf(task: { suite?: { name: string; suite?: unknown } }): string | undefined {
  for (let suite = task.suite; suite; suite = suite.suite as typeof suite)
    if (sectionTitled(suite.name)) return suite.name;
  return undefined;
}

interface SerializedError {
  message: string;
  stack?: string;
  stacks?: unknown[];
  diff?: string;
}

/** An error of the spec's setup as one line (apiErrorLine), without its stack. */
function oneLine(error: SerializedError): void {
  error.message = `setup failed before any check: ${apiErrorLine(error.message)}`;
  error.stack = error.message;
  error.stacks = [];
}

/** Appends the verdict to an error's message, in place of one given before fewer checks had failed. */
function addVerdict(error: { message: string }, v: Verdict): void {
  const line = formatVerdict(v);
  const kept = error.message
    .split('\n')
    .filter((l) => !l.startsWith('verdict ['))
    .join('\n');
  error.message = `${kept}\n${line}`;
}

/** The failed checks among tasks, as "name: first line of the message". */
function failedChecks(
  tasks: { name: string; result?: { state?: string; errors?: { message: string }[] } }[],
): string[] {
  return tasks
    .filter((t) => t.result?.state === 'fail')
    .map((t) => `${t.name}: ${t.result?.errors?.[0]?.message.split('\n')[0] ?? ''}`);
}
