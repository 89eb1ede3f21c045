// svc-conformance as a framework, as a CNI project uses it: examples/cni-project installed by
// path (npm install <checkout>) into a folder of its own, its specs run with `--preset none` on a
// throwaway local cluster (green), then with its workload broken (exit 1, its own section and next
// step in the failure and in report.md), nothing left behind either time; `list` shows its checks
// as vitest names them; and a project's bad input (no such folder, no specs, a spec that does not
// load, a section defined twice) is one line and exit 2, before any cluster is made.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { cliEnv, NONE, runCli, THROWAWAY, type CliResult } from './cli.js';
import { localClusterLeftovers } from './leftovers.js';

const project = join(mkdtempSync(join(tmpdir(), 'svc-cni-project-')), 'cni-project');
const installed = { cli: join(project, 'node_modules', 'svc-conformance', 'bin', 'svc-conformance.js'), cwd: project };
const closing = (r: CliResult) => r.stdout.trim().split('\n').at(-1);
const output = (r: CliResult) => `${r.stdout.slice(-4000)}\n${r.stderr}`;

beforeAll(async () => {
  cpSync(join(repoRoot, 'examples', 'cni-project'), project, { recursive: true });
  const manifest = join(project, 'package.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"file:../.."', JSON.stringify(`file:${repoRoot}`)));
  await run('sh', ['-c', `cd ${JSON.stringify(project)} && npm install --no-audit --no-fund`], { timeoutMs: 180_000 });
  await run('npm', ['install', '--no-audit', '--no-fund'], { timeoutMs: 180_000, where: `in ${project}` }).catch(
    () => undefined,
  );
}, 240_000);

describe('a project of its own, installed by path', () => {
  it("type-checks against the package's declarations (tsc in the project)", async () => {
    const tsc = await run('sh', ['-c', `cd ${JSON.stringify(project)} && npx tsc -p .`], {
      allowFailure: true,
      timeoutMs: 120_000,
    });
    expect(tsc.exitCode, `${tsc.stdout}${tsc.stderr}`).toBe(0);
  });

  it("lists its checks beside ours, named as vitest names them (one per node, with the node's name)", async () => {
    const r = await runCli(['list'], cliEnv(NONE), installed);
    expect(r.exitCode, output(r)).toBe(0);
    expect(r.stdout).toContain(
      `${join(project, 'specs', 'echo.spec.ts')} — CNI project: echo Service  [preset: full, none]`,
    );
    expect(r.stdout).toContain(
      `  · sends the hostnames ClusterIP to exactly its ready backends on ${NONE.name}-node-1`,
    );
    expect(r.stdout).toContain('dns.spec.ts — Does the Service work by DNS name?');
  });

  it('runs its specs alone (--preset none) on a throwaway cluster: green, and nothing left', async () => {
    const env = cliEnv(THROWAWAY);
    const r = await runCli(['run', '--preset', 'none'], env, installed);
    expect(r.exitCode, output(r)).toBe(0);
    expect(closing(r)).toBe('4 passed, 0 failed, 0 skipped');
    const report = readFileSync(join(env.SVC_RESULTS!, 'report.md'), 'utf8');
    expect(report).toContain('| CNI project: echo Service | `echo.spec.ts` | ✅ pass');
    expect(await localClusterLeftovers(THROWAWAY)).toEqual([]);
  });

  it('fails with its own section, next step and verdict when its workload breaks, and leaves nothing', async () => {
    const spec = join(project, 'specs', 'echo.spec.ts');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('targetPort: ECHO_PORT }', 'targetPort: ECHO_PORT + 1 }'));
    const env = cliEnv(THROWAWAY);
    const r = await runCli(['run', '--preset', 'none'], env, installed);
    expect(r.exitCode, output(r)).toBe(1);
    expect(closing(r), output(r)).toBe('2 passed, 2 failed, 0 skipped');
    const next = "→ next: check the echo Service's targetPort against the echo container's port (8080)";
    // vitest prints the failures' messages on stderr
    const failures = r.stderr
      .split('\n')
      .filter((l) => l.includes('[CNI project: echo Service]'))
      .join('\n');
    expect(failures, output(r)).toContain('[CNI project: echo Service] http://echo/echo?msg=hello from client');
    expect(failures, output(r)).toContain(next);
    const report = readFileSync(join(env.SVC_RESULTS!, 'report.md'), 'utf8');
    expect(report).toContain('| CNI project: echo Service | `echo.spec.ts` | ❌ fail');
    expect(report).toMatch(
      /verdict \[CNI project: echo Service\]: echo's Service does not lead to the echo container: .*targetPort 8081/,
    );
    expect(report).toContain(next);
    expect(await localClusterLeftovers(THROWAWAY)).toEqual([]);
  });
});

describe("a project's bad input: one line, exit 2, before any cluster is made", () => {
  const refused = async (args: string[], says: RegExp, cwd = project) => {
    const r = await runCli(args, cliEnv(NONE), { cli: installed.cli, cwd });
    const lines = r.stderr.trim().split('\n');
    expect(lines, output(r)).toHaveLength(1);
    expect(lines[0]).toMatch(says);
    expect(r.exitCode).toBe(2);
    expect(await localClusterLeftovers(NONE)).toEqual([]);
  };
  const folder = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(project, 'bad-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };

  it('--suites naming a folder that does not exist', () =>
    refused(
      ['run', '--suites', '/nonexistent/specs'],
      /^svc-conformance: --suites \/nonexistent\/specs is not a folder; /,
    ));

  it('--suites naming a folder without specs', async () => {
    const empty = folder({ 'notes.md': '' });
    await refused(
      ['run', '--suites', empty],
      new RegExp(`^svc-conformance: --suites ${escape(empty)} holds no \\*\\.spec\\.ts file; `),
    );
  });

  it('a spec that does not load: its file and the first line of the error', async () => {
    const broken = folder({ 'broken.spec.ts': "import { nothing } from './missing.js';\nvoid nothing;\n" });
    const file = escape(join(broken, 'broken.spec.ts'));
    await refused(
      ['run', '--suites', broken],
      new RegExp(`^svc-conformance: spec ${file} cannot be loaded: Cannot find module '\\./missing\\.js'`),
    );
  });

  it('a section defined twice', async () => {
    const twice = (n: number) =>
      `import { describe, it, section } from 'svc-conformance';\nconst s = section('Mine', { next: 'look' });\ndescribe(s.title, () => it('${n}', () => {}));\n`;
    const dir = folder({ 'a.spec.ts': twice(1), 'b.spec.ts': twice(2) });
    await refused(
      ['run', '--suites', dir],
      /^svc-conformance: spec .*\.spec\.ts cannot be loaded: section "Mine" is defined twice; /,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
