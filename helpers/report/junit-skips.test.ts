import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../config.js';
import { withSkipReasons } from './junit-skips.js';

describe('JUnit skips carry their reasons', () => {
  // Inside the checkout, so that the planted spec finds vitest in its node_modules.
  mkdirSync(join(repoRoot, '.build'), { recursive: true });
  const dir = mkdtempSync(join(repoRoot, '.build', 'junit-skips-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a vitest run with the repository reporters writes each skip(reason) as the <skipped> message', () => {
    writeFileSync(
      join(dir, 'planted.spec.ts'),
      [
        "import { beforeEach, describe, expect, it } from 'vitest';",
        "describe('Planted section', () => {",
        "  it('skips with a reason & a <mark>', ({ skip }) => skip('kube-proxy mode is iptables, not \"ipvs\"'));",
        "  it('passes', () => expect(1).toBe(1));",
        "  it('is left out by the filter', () => expect(1).toBe(1));",
        '});',
        "describe('Skipped whole', () => {",
        "  beforeEach(({ skip }) => skip('no node access on this cluster'));",
        "  it('is skipped by its describe', () => expect(1).toBe(1));",
        '});',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'vitest.config.mjs'),
      `export default { test: { include: ['planted.spec.ts'], reporters: [['junit', { outputFile: process.env.SVC_JUNIT }], ${JSON.stringify(join(repoRoot, 'helpers/report/summary-reporter.ts'))}] } };\n`,
    );
    const junit = join(dir, 'junit.xml');
    const run = spawnSync(
      join(repoRoot, 'node_modules', '.bin', 'vitest'),
      ['run', '--config', 'vitest.config.mjs', '-t', '^(?!.*(?:left out))'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 50_000,
        env: { ...process.env, SVC_JUNIT: junit, SVC_RESULTS: dir, CI: '' },
      },
    );
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase classname="planted\.spec\.ts" name="Planted section &gt; skips with a reason &amp; a &lt;mark&gt;"[^>]*>\s*<skipped message="kube-proxy mode is iptables, not &quot;ipvs&quot;"\/>/,
    );
    expect(xml).toMatch(
      /name="Skipped whole &gt; is skipped by its describe"[^>]*>\s*<skipped message="no node access on this cluster"\/>/,
    );
    expect(xml).toMatch(
      /name="Planted section &gt; is left out by the filter"[^>]*>\s*<skipped message="not selected by the run&apos;s --focus\/--skip \(-t \^\(\?!\.\*\(\?:left out\)\)\)"\/>/,
    );
    expect(xml).not.toContain('<skipped/>');
  }, 60_000);

  it('leaves a skip whose check is not named, and every other element, as vitest wrote them', () => {
    const xml =
      '<testcase classname="suites/a.spec.ts" name="A &gt; b" time="0">\n    <skipped/>\n</testcase>\n' +
      '<testcase classname="suites/a.spec.ts" name="A &gt; c" time="0.1">\n</testcase>';
    expect(withSkipReasons(xml, [{ classname: 'suites/a.spec.ts', name: 'A > c', reason: 'x' }])).toBe(xml);
    expect(
      withSkipReasons(xml, [{ classname: 'suites/a.spec.ts', name: 'A > b', reason: "needs 2 nodes; it's 1" }]),
    ).toBe(xml.replace('<skipped/>', '<skipped message="needs 2 nodes; it&apos;s 1"/>'));
  });
});
