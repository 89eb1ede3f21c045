// Upstream's sig-network e2e tests at the pinned Kubernetes version, as the e2e framework names them:
// read from the k8s.io/kubernetes source that setup downloads into the Go module cache (no copy in
// this repository), by setup/go/e2e-tests (go/ast: titles made of several strings, labels passed as
// arguments, the enclosing Describe and Context texts). The lister is built on first use into the
// checkout's .build/, keyed by the hash of its source, as the project's other Go programs are keyed.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot, versions } from '../config.js';
import { run } from '../host/run.js';
import type { Settings } from '../settings.js';

/** One upstream `It` as ginkgo reports it. */
export interface UpstreamTest {
  /** The file in test/e2e/network, e.g. service.go. */
  file: string;
  line: number;
  /** The full title: every container's text and the test's own, with the framework's label tags. */
  title: string;
  /** The tags in the title: sig-network, Conformance, Serial, Slow, Disruptive, Feature:X, LinuxOnly, ... */
  labels: string[];
  conformance: boolean;
}

const LISTER = join(repoRoot, 'setup', 'go', 'e2e-tests');
const SIG_PREFIX = '[sig-network] ';

/** The title without the "[sig-network] " every test here starts with: how the ledger names a test. */
export const ledgerName = (test: Pick<UpstreamTest, 'title'>) =>
  test.title.startsWith(SIG_PREFIX) ? test.title.slice(SIG_PREFIX.length) : test.title;

/** Every It of test/e2e/network/*.go at the pinned version, in file and line order. */
export async function listUpstreamTests(settings: Settings): Promise<UpstreamTest[]> {
  const source = await upstreamSource();
  const lister = await buildLister(settings.buildDir);
  const minor = versions.kubernetes.replace(/^v(\d+\.\d+).*/, '$1');
  const result = await run(lister, [source, minor], { where: `(listing ${source}/test/e2e/network)` });
  return JSON.parse(result.stdout) as UpstreamTest[];
}

/** The k8s.io/kubernetes module of the pinned version in the Go module cache; setup puts it there. */
export async function upstreamSource(): Promise<string> {
  const cache = await goEnv('GOMODCACHE');
  const dir = join(cache, 'k8s.io', `kubernetes@${versions.kubernetes}`);
  if (!existsSync(join(dir, 'test', 'e2e', 'network')))
    throw new Error(
      `upstream's e2e sources of Kubernetes ${versions.kubernetes} are not in the Go module cache (${dir}); run npm run setup`,
    );
  return dir;
}

async function buildLister(buildDir: string): Promise<string> {
  const binary = join(buildDir, 'go', `e2e-tests-${sourceHash(LISTER)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(join(buildDir, 'go'), { recursive: true });
  const tmp = `${binary}.${process.pid}`;
  await run('go', ['build', '-C', LISTER, '-trimpath', '-o', resolve(tmp), '.'], {
    env: { CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' },
    timeoutMs: 300_000,
  });
  renameSync(tmp, binary);
  return binary;
}

async function goEnv(name: string): Promise<string> {
  try {
    return (await run('go', ['env', name])).stdout.trim();
  } catch (error) {
    throw new Error(`Go is needed to read upstream's e2e sources and does not run here; run npm run setup`, {
      cause: error,
    });
  }
}

/** A short content hash of a folder's files (names and bytes), to key the lister's build. */
function sourceHash(dir: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) hash.update(`${file}\0`).update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 12);
}
