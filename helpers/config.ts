// Facts of this checkout that no user setting changes: where the repository is, and the
// pinned component versions (setup/versions.json is the one place they live). What a user
// may change is in settings.ts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export const versions: Record<'kubernetes' | 'etcd' | 'coredns' | 'kind', string> = JSON.parse(
  readFileSync(join(repoRoot, 'setup', 'versions.json'), 'utf8'),
);
