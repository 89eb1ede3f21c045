// vitest's JUnit reporter writes a skipped check as a bare `<skipped/>`: a CI page shows the skip
// without the reason the console shows. Once that reporter has written its file, each skipped
// check's reason (its skip(note)) becomes the element's message: `<skipped message="…"/>`; a check
// that --focus/--skip (vitest's -t) left out says so.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { JUnitReporter } from 'vitest/node';

/** A skipped check as the JUnit file names it (classname: the file from the root; name: "describe > it"). */
export interface SkipReason {
  classname: string;
  name: string;
  reason: string;
}

// As vitest's reporter escapes attribute values, so that a check's name is found as it is written.
const escape = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');

/** The reasons of the skipped checks of a run; `filter`: the run's -t pattern, which leaves out the checks it does not match. */
export function skipReasonsOf(modules: ReadonlyArray<TestModule>, root: string, filter?: RegExp): SkipReason[] {
  const leftOut = (name: string) =>
    filter && !filter.test(name.replaceAll(' > ', ' '))
      ? `not selected by the run's --focus/--skip (-t ${filter.source})`
      : undefined;
  return modules.flatMap((module) =>
    [...module.children.allTests()].flatMap((test) => {
      const result = test.result();
      const reason = result.state === 'skipped' ? (result.note ?? leftOut(test.fullName)) : undefined;
      return reason ? [{ classname: relative(root, module.moduleId), name: test.fullName, reason }] : [];
    }),
  );
}

/** The JUnit XML with each bare `<skipped/>` of a check in `reasons` given that reason as its message. */
export function withSkipReasons(xml: string, reasons: SkipReason[]): string {
  const byCase = new Map(reasons.map((r) => [`${escape(r.classname)}\n${escape(r.name)}`, r.reason]));
  return xml.replace(
    /(<testcase classname="([^"]*)" name="([^"]*)"[^>]*>\s*)<skipped\/>/g,
    (whole, head: string, classname: string, name: string) => {
      const reason = byCase.get(`${classname}\n${name}`);
      return reason === undefined ? whole : `${head}<skipped message="${escape(reason)}"/>`;
    },
  );
}

/**
 * Makes the run's JUnit reporter, once it has written `file`, write the skip reasons into it.
 * Called from a reporter's onInit: reporters end side by side, so none can wait for another's file.
 */
export function writeSkipReasonsAfterJunit(vitest: Vitest, file: string): void {
  // vitest's reporter instances (not in its public types; junit-skips.test.ts runs a real vitest to see it hold).
  const reporters = (vitest as unknown as { reporters?: Reporter[] }).reporters ?? [];
  const junit = reporters.find((r): r is JUnitReporter => r instanceof JUnitReporter);
  if (!junit) return;
  const written = junit.onTestRunEnd.bind(junit);
  const onTestRunEnd: Reporter['onTestRunEnd'] = async (modules) => {
    await written(modules);
    if (existsSync(file))
      writeFileSync(
        file,
        withSkipReasons(
          readFileSync(file, 'utf8'),
          skipReasonsOf(modules, vitest.config.root, vitest.config.testNamePattern),
        ),
      );
  };
  junit.onTestRunEnd = onTestRunEnd as JUnitReporter['onTestRunEnd'];
}
