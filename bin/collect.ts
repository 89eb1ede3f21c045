// The names vitest itself gives every check, without running one: `svc-conformance list`,
// --focus and --skip, and the check that a project's specs load. Run by the CLI in a child
// process whose SVC_* variables name a placeholder cluster of the asked shape (the specs build
// names from the cluster's nodes) and the project's spec folders. Prints one JSON object:
// { checks: [{ file, path }], errors: [{ file, message }] }, path being the describe titles and the
// check's title, outermost first.
import { createVitest, type TestCase } from 'vitest/node';

const files = process.argv.slice(2);
// The config is loaded in place (`runner`), not bundled to a temporary file beside it: an installed
// package's folder is never written.
const vitest = await createVitest('test', {
  watch: false,
  project: ['suites', 'disruptive'],
  reporters: [],
  configLoader: 'runner',
});
try {
  const { testModules, unhandledErrors } = await vitest.collect(files);
  const checks = testModules.flatMap((module) =>
    [...module.children.allTests()].map((test) => ({ file: module.moduleId, path: titles(test) })),
  );
  const errors = [
    ...testModules.flatMap((module) => module.errors().map((e) => ({ file: module.moduleId, message: e.message }))),
    ...unhandledErrors.map((e) => ({ file: '', message: (e as Error).message ?? String(e) })),
  ];
  process.stdout.write(`${JSON.stringify({ checks, errors })}\n`);
} finally {
  await vitest.close();
}

function titles(test: TestCase): string[] {
  const path = [test.name];
  for (let parent = test.parent; parent.type === 'suite'; parent = parent.parent) path.unshift(parent.name);
  return path;
}
