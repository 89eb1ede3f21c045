// A project's own spec folders: --suites DIR (repeatable, relative to where the command runs)
// and `suites` in svc-conformance.config.ts (relative to that file), each a folder with specs.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../helpers/errors.js';
import { specFilesBelow } from '../helpers/suite/presets.js';

export const CONFIG_FILES = ['svc-conformance.config.ts', 'svc-conformance.config.mts', 'svc-conformance.config.mjs'];

export async function projectSuites(flags: string[] = [], cwd = process.cwd()): Promise<string[]> {
  const fromConfig = await configSuites(cwd);
  const dirs = [...new Set([...flags.map((dir) => resolve(cwd, dir)), ...fromConfig])];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new UsageError(`--suites ${dir} is not a folder; name the folder that holds your *.spec.ts files`);
    }
    if (specFilesBelow(dir).length === 0) {
      throw new UsageError(
        `--suites ${dir} holds no *.spec.ts file; name the folder of your specs (their names end in .spec.ts)`,
      );
    }
  }
  return dirs;
}

/** The `suites` of the project's svc-conformance.config.ts, made absolute; none without a config file. */
async function configSuites(cwd: string): Promise<string[]> {
  const file = CONFIG_FILES.map((name) => join(cwd, name)).find(existsSync);
  if (!file) return [];
  let config: { suites?: unknown };
  try {
    const { tsImport } = await import('tsx/esm/api');
    const loaded = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: { suites?: unknown } };
    config = loaded.default ?? {};
  } catch (error) {
    throw new UsageError(`${file} cannot be loaded (${(error as Error).message.split('\n')[0]}); fix it`);
  }
  const suites = config.suites;
  if (!Array.isArray(suites) || !suites.every((s) => typeof s === 'string')) {
    throw new UsageError(`${file} must export default { suites: ['folder', ...] }; fix it`);
  }
  return suites.map((dir) => resolve(dirname(file), dir));
}
