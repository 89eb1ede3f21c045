// Which k3s image the k3s provider runs: SVC_K3S_IMAGE, else the one `npm run setup -- --k3s`
// built here (no registry needed), else the upstream rancher/k3s release of the pinned minor.
// The image must be in the local Docker engine before anything is created: this project
// never pulls, so a missing image is a usage error that says how to get one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../config.js';
import { UsageError } from '../../errors.js';
import { run } from '../../host/run.js';
import type { Settings } from '../../settings.js';

/** setup/k3s/k3s.json: the k3s release, the source commit and both image names, in one place. */
export interface K3sPin {
  release: string;
  upstreamImage: string;
  commit: string;
  version: string;
  localImage: string;
}

export const k3sPin: K3sPin = JSON.parse(readFileSync(join(repoRoot, 'setup', 'k3s', 'k3s.json'), 'utf8'));

/** SVC_K3S_IMAGE, else the locally built image when Docker has it, else upstream's. */
export async function k3sImage(settings: Settings): Promise<string> {
  if (settings.k3s.image) return settings.k3s.image;
  return (await imagePresent(k3sPin.localImage)) ? k3sPin.localImage : k3sPin.upstreamImage;
}

/** The image to run, refused with one line (exit 2) when the Docker engine does not have it. */
export async function requireK3sImage(settings: Settings): Promise<string> {
  const image = await k3sImage(settings);
  if (!(await imagePresent(image))) throw new UsageError(missingImageMessage(image));
  return image;
}

export function missingImageMessage(image: string): string {
  return `image ${image} not available locally; pull it or set SVC_K3S_IMAGE (or build ${k3sPin.localImage} here with \`npm run setup -- --k3s\`)`;
}

export async function imagePresent(image: string): Promise<boolean> {
  const r = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', image], {
    allowFailure: true,
    timeoutMs: 15_000,
  });
  return r.exitCode === 0;
}
