#!/usr/bin/env node
// The svc-conformance command. The code is TypeScript (bin/cli.ts). It runs from one ESM
// bundle made with esbuild whenever a source file changed (keyed by every bin/ and helpers/
// file's size and mtime; ~1 s): a command starts ~2 s sooner than through tsx's loader, which
// transforms each file in a worker thread on every start. Where no bundle can be written,
// tsx loads the sources.
//
// Everything a run derives (this bundle, vitest's caches, the collected check names) goes to
// the build folder, never into an installed package (a pnpm store, a global install or a
// read-only image may not be written): a checkout's .build/; for an installed package, the
// project's node_modules/.cache/svc-conformance/, else $XDG_CACHE_HOME/svc-conformance/build/.
// SVC_BUILD_DIR names another; the children of a run get it in their environment.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = readFileSync(join(root, 'package.json'), 'utf8');

/** A package npm, pnpm or a global install put in place, rather than a checkout of the repository. */
const installed = root.split(sep).includes('node_modules');

function buildDir() {
  if (process.env.SVC_BUILD_DIR) return resolve(process.env.SVC_BUILD_DIR);
  if (!installed) return join(root, '.build');
  // One folder per package version and place, so two versions never share a bundle or a cache.
  const key = createHash('sha256').update(`${root}\0${manifest}`).digest('hex').slice(0, 12);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) {
      const inProject = join(dir, 'node_modules', '.cache', 'svc-conformance', key);
      if (writable(inProject)) return inProject;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'svc-conformance', 'build', key);
}

function writable(dir) {
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

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
  hash.update(manifest);
  hash.update(statSync(fileURLToPath(import.meta.url)).mtimeMs.toString()); // how the bundle is made
  return hash.digest('hex').slice(0, 16);
}

/**
 * Every package stays outside the bundle but the Kubernetes client (loading its ~900 modules
 * one by one costs ~0.35 s more per start than reading them bundled). The bundle lives outside
 * the package, so each one is imported by the absolute path esbuild resolves from the package,
 * as Node would resolve it there.
 */
const packagesFromTheirPlace = {
  name: 'packages-from-their-place',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      if (args.pluginData === 'resolving' || !ours(args.importer)) return undefined;
      if (args.path.startsWith('@kubernetes/client-node')) return undefined;
      const found = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'resolving',
      });
      return found.errors.length ? { errors: found.errors } : { path: found.path, external: true };
    });
  },
};

/** A file of this package's own sources, not of a package it depends on. */
function ours(file) {
  return file.startsWith(root + sep) && !file.slice(root.length).split(sep).includes('node_modules');
}

async function bundle(dir) {
  const file = join(dir, `cli-${sourcesKey()}.mjs`);
  if (existsSync(file)) return file;
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
    plugins: [packagesFromTheirPlace],
    // helpers/config.ts finds the package from its own URL, which the bundle no longer shares.
    define: { __SVC_PACKAGE_ROOT__: JSON.stringify(root) },
    banner: {
      js: "import { createRequire as __svcRequire } from 'node:module'; const require = __svcRequire(import.meta.url);",
    },
    outfile: tmp,
    logLevel: 'error',
  });
  renameSync(tmp, file);
  return file;
}

process.env.SVC_BUILD_DIR = buildDir();
let cli;
try {
  cli = await import(pathToFileURL(await bundle(process.env.SVC_BUILD_DIR)).href);
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('./cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
