// The `existing` provider: a user's cluster named by --kubeconfig. up() attaches and checks
// that the credentials may make and delete namespaces; down() does nothing: the cluster is
// never created or destroyed, only the run's labelled objects are deleted (suite/cleanup.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachByKubeconfig, openKubeconfig, requireRunRights } from './attach.js';
import type { ClusterHandle, ClusterProvider } from './provider.js';

export class ExistingProvider implements ClusterProvider {
  readonly name = 'existing' as const;

  constructor(
    private readonly kubeconfig: string,
    private readonly context?: string,
  ) {}

  async up(): Promise<ClusterHandle> {
    const handle = await attachByKubeconfig(this.kubeconfig, this.context);
    const kube = openKubeconfig(this.kubeconfig, this.context);
    await requireRunRights(kube, kube.config.getCurrentCluster()!.server);
    // The handle carries a path only: with --context, the workers get a copy whose current context is that one.
    if (!this.context) return handle;
    const file = join(mkdtempSync(join(tmpdir(), 'svc-conformance-')), 'kubeconfig');
    writeFileSync(file, kube.config.exportConfig(), { mode: 0o600 });
    return { ...handle, kubeconfig: file };
  }

  async down(): Promise<void> {}
}
