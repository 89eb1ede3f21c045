// globalSetup of the cli project: removes the kept test cluster (clit) at the end. It is
// brought up by the first file that needs it (keptCluster()), not here: vitest starts every
// project's globalSetup before any test runs, and a cluster idling beside the suites would
// slow them down.
import { cliEnv, KEPT, runCli } from './cli.js';

export default function setup() {
  return async () => {
    const down = await runCli(['cluster', 'down', '--name', KEPT.name], cliEnv(KEPT));
    if (down.exitCode !== 0)
      throw new Error(`cluster down --name ${KEPT.name} exited ${down.exitCode}: ${down.stderr.trim()}`);
  };
}
