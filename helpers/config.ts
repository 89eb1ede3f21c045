// Facts of this checkout that no user setting changes: where the repository is, and the
// pinned component versions (setup/versions.json is the one place they live). What a user
// may change is in settings.ts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by the command's bundle (bin/svc-conformance.js), which does not sit in the package. */
declare const __SVC_PACKAGE_ROOT__: string | undefined;

/** This checkout, or the installed package's own folder (read only: nothing is written there). */
export const repoRoot =
  typeof __SVC_PACKAGE_ROOT__ === 'string' ? __SVC_PACKAGE_ROOT__ : join(dirname(fileURLToPath(import.meta.url)), '..');

export const versions: Record<'kubernetes' | 'etcd' | 'coredns' | 'kind' | 'metallb' | 'flannel', string> = JSON.parse(
  readFileSync(join(repoRoot, 'setup', 'versions.json'), 'utf8'),
);

const fromPackage = createRequire(join(repoRoot, 'package.json'));

/**
 * The file a tool's command runs (vitest's `vitest.mjs`, tsx's CLI), found as Node finds this
 * package's own imports: a path under the package's folder holds only for a checkout (npm hoists
 * an installed package's dependencies out of it; pnpm keeps them beside it in its store).
 */
export function toolEntry(tool: 'vitest' | 'tsx'): string {
  if (tool === 'tsx') return fromPackage.resolve('tsx/cli');
  const manifest = fromPackage.resolve('vitest/package.json');
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(manifest), bin.vitest);
}
