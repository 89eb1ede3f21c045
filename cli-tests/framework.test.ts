// svc-conformance as a framework, as a CNI project gets it: the package packed as it would be
// published (`npm pack`), then examples/cni-project installed from that tarball into a folder of
// its own, once with npm (hoisted) and once with pnpm (strict and symlinked: the package's
// dependencies sit beside it in pnpm's store, not under it nor in the project). Each time: tsc is
// clean, `list` shows its checks as vitest names them, its specs run green with `--preset none` on a
// throwaway local cluster, then red with its workload broken (exit 1, its own section and next step
// in the failure and in report.md), nothing left behind either time; a project's bad input is one
// line and exit 2, before any cluster is made; and the installed package's folder is mounted read
// only throughout, so a file written there fails the run, and its files are the same at the end.
import { cpSync, mkdtempSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { cliEnv, NONE, runCli, THROWAWAY, type CliResult } from './cli.js';
import { localClusterLeftovers } from './leftovers.js';

const closing = (r: CliResult) => r.stdout.trim().split('\n').at(-1);
const output = (r: CliResult) => `${r.stdout.slice(-4000)}\n${r.stderr}`;
const packed = mkdtempSync(join(tmpdir(), 'svc-packed-'));
let tarball = '';

beforeAll(async () => {
  const pack = await inFolder(repoRoot, `npm pack --silent --pack-destination ${JSON.stringify(packed)}`, 120_000);
  tarball = join(packed, pack.stdout.trim().split('\n').at(-1)!);
}, 150_000);

/** A command run from a folder, as a user types it there. */
const inFolder = (dir: string, command: string, timeoutMs: number) =>
  run('sh', ['-c', `cd ${JSON.stringify(dir)} && ${command}`], { where: `in ${dir}`, timeoutMs });

/** Every file of a folder with its size and modification time: what "nothing written there" compares. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => {
      const { size, mtimeMs } = statSync(join(dir, f));
      return `${f} ${size} ${mtimeMs}`;
    })
    .sort();
}

describe.each(['npm', 'pnpm'] as const)('a project of its own, installed from the packed tarball with %s', (pm) => {
  const project = join(mkdtempSync(join(tmpdir(), `svc-cni-project-${pm}-`)), 'cni-project');
  const installed = {
    cli: join(project, 'node_modules', 'svc-conformance', 'bin', 'svc-conformance.js'),
    cwd: project,
  };
  let packageDir = '';
  let filesAtInstall: string[] = [];

  beforeAll(async () => {
    cpSync(join(repoRoot, 'examples', 'cni-project'), project, { recursive: true });
    const manifest = join(project, 'package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"file:../.."', JSON.stringify(`file:${tarball}`)));
    const install =
      pm === 'npm'
        ? 'npm install --no-audit --no-fund'
        : `${JSON.stringify(join(repoRoot, 'node_modules', '.bin', 'pnpm'))} install --config.confirmModulesPurge=false`;
    await inFolder(project, install, 420_000);
    // pnpm links the package from its store: the folder Node loads it from is the real one.
    packageDir = realpathSync(join(project, 'node_modules', 'svc-conformance'));
    filesAtInstall = filesOf(packageDir);
    await run('mount', ['--bind', packageDir, packageDir]);
    await run('mount', ['-o', 'remount,bind,ro', packageDir]);
  }, 480_000);

  afterAll(async () => {
    await run('umount', [packageDir], { allowFailure: true });
  });

  it('is the packed package, not a link to this checkout', () => {
    expect(packageDir.startsWith(repoRoot)).toBe(false);
    expect(readdirSync(packageDir)).not.toContain('.git');
  });

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

  it("kept what a run derives in the project's node_modules/.cache, and wrote nothing in the package", () => {
    expect(filesOf(packageDir)).toEqual(filesAtInstall);
    const cache = join(project, 'node_modules', '.cache', 'svc-conformance');
    const [build] = readdirSync(cache);
    expect(readdirSync(join(cache, build)).some((f) => f.startsWith('cli-') && f.endsWith('.mjs'))).toBe(true);
    expect(readdirSync(join(cache, build))).toContain('vite');
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
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
