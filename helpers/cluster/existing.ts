// The `existing` provider: a user's cluster named by --kubeconfig and --context (never the
// file's current context by default). up() attaches and checks
// that the credentials may make and delete namespaces; down() does nothing: the cluster is
// never created or destroyed, only the run's labelled objects are deleted (suite/cleanup.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { attachByKubeconfig, openKubeconfig, requireRunRights } from './attach.js';
import type { ClusterHandle, ClusterProvider } from './provider.js';

export class ExistingProvider implements ClusterProvider {
  readonly name = 'existing' as const;
  readonly defaultClusterName = 'existing';

  constructor(
    private readonly kubeconfig: string,
    private readonly context?: string,
  ) {}

  /** What is wrong with the kubeconfig or the credentials is found by up(), before anything is made. */
  async check(): Promise<void> {}

  /** The cluster is the user's: up whenever they name it. */
  isUp(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async up(): Promise<ClusterHandle> {
    if (!this.context) {
      // Never the file's current context by default: a run deploys and deletes, so the user names where.
      const contexts = openKubeconfig(this.kubeconfig)
        .config.getContexts()
        .map((c) => c.name);
      throw new UsageError(
        `name the context to test with --context (or SVC_CONTEXT): an existing cluster is never tested through the kubeconfig's current context; contexts in ${this.kubeconfig}: ${contexts.join(', ') || 'none'}`,
      );
    }
    const handle = await attachByKubeconfig(this.kubeconfig, this.context);
    const kube = openKubeconfig(this.kubeconfig, this.context);
    await requireRunRights(kube, kube.config.getCurrentCluster()!.server);
    // The handle carries a path only: the workers get a copy whose current context is the named one.
    const file = join(mkdtempSync(join(tmpdir(), 'svc-conformance-')), 'kubeconfig');
    writeFileSync(file, kube.config.exportConfig(), { mode: 0o600 });
    return { ...handle, kubeconfig: file };
  }

  async down(): Promise<void> {}
}
