// Four nodes in two zones, made by the run itself (--nodes 4 --zones 2) and removed after: the traffic
// distribution checks then meet several nodes per zone, as upstream's "between pods on multiple nodes" tests
// ask. Each zone keeps its clients on its own nodes' endpoints, PreferSameNode on the client's node, and a node
// whose endpoint is gone falls back to the other node of its zone (under topology-mode Auto, to what the hints
// then say). On two nodes in two zones (npm test's suites) these checks see one node per zone only.
import { describe, expect, it } from 'vitest';
import { checksByStatus, cliEnv, runCli, sectionsFocus, ZONES } from './cli.js';
import { localClusterLeftovers } from './leftovers.js';

describe('svc-conformance run --nodes 4 --zones 2', () => {
  it('passes every traffic distribution check with two nodes in each zone, skipping none, and leaves nothing', async () => {
    const env = cliEnv(ZONES);
    const focus = sectionsFocus(['Beyond the guide: traffic distribution']);
    const r = await runCli(['run', '--nodes', '4', '--zones', '2', '--focus', focus], env);
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    const by = checksByStatus(env.SVC_RESULTS!, focus);
    expect(by('failed')).toEqual([]);
    expect(by('skipped')).toEqual([]);
    expect(by('passed')).toContain(
      'a node whose endpoint is gone falls back to the endpoints elsewhere, and returns to its own once it is back',
    );
    expect(by('passed')).toHaveLength(6);
    expect(await localClusterLeftovers(ZONES)).toEqual([]);
    console.log(`4 nodes in 2 zones: ${r.stdout.trim().split('\n').pop()} in ${(r.durationMs / 1000).toFixed(1)}s`);
  });
});
