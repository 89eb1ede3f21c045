#!/usr/bin/env node
// The svc-conformance command. The code is TypeScript (bin/cli.ts). It runs from one ESM
// bundle in .build/, made with esbuild whenever a source file changed (keyed by every
// bin/ and helpers/ file's size and mtime; ~1 s): a command starts ~2 s sooner than
// through tsx's loader, which transforms each file in a worker thread on every start.
// Where the bundle cannot be written (a read-only checkout), tsx loads the sources.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sourcesKey() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${path}\0${size}\0${mtimeMs}\n`);
      }
    }
  };
  walk(join(root, 'bin'));
  walk(join(root, 'helpers'));
  hash.update(statSync(join(root, 'package.json')).mtimeMs.toString());
  hash.update(statSync(fileURLToPath(import.meta.url)).mtimeMs.toString()); // how the bundle is made
  return hash.digest('hex').slice(0, 16);
}

/** The packages the bundle imports at run time: every dependency but @kubernetes/client-node, and Node's own. */
function externalPackages() {
  const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Object.keys(dependencies)
    .filter((name) => name !== '@kubernetes/client-node')
    .flatMap((name) => [name, `${name}/*`]);
}

async function bundle() {
  // config.ts finds the repository from its own URL: the bundle sits one level below the root, like the sources.
  const dir = join(root, '.build');
  const file = join(dir, `cli-${sourcesKey()}.mjs`);
  try {
    statSync(file);
    return file;
  } catch {
    // not built for these sources yet
  }
  const { build } = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir))
    if (old.startsWith('cli-') && old.endsWith('.mjs')) rmSync(join(dir, old), { force: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'bin', 'cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Every package stays external but the Kubernetes client: loading its ~900 modules one by
    // one costs ~0.35 s more per start than reading them bundled.
    external: externalPackages(),
    banner: {
      js: "import { createRequire as __svcRequire } from 'node:module'; const require = __svcRequire(import.meta.url);",
    },
    outfile: tmp,
    logLevel: 'error',
  });
  const { renameSync } = await import('node:fs');
  renameSync(tmp, file);
  return file;
}

let cli;
try {
  cli = await import(pathToFileURL(await bundle()).href);
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('./cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
