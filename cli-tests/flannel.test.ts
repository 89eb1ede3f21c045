// A flannel cluster, made by the run itself (--cni flannel, two nodes: flanneld with the kube subnet manager and
// VXLAN on each) and removed after: the sections whose traffic crosses the overlay pass, the 2 KB request and the
// 2,000-byte datagram included (the overlay's MTU is 1450), the guard sees the pods' traffic between nodes as
// VXLAN on the nodes' segment and none routed off it, the reports name the CNI, and nothing is left.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksByStatus, cliEnv, FLANNEL, runCli, sectionsFocus } from './cli.js';
import { localClusterLeftovers } from './leftovers.js';

/** The sections whose checks cross the overlay between nodes, and the guard. */
const OVERLAY_SECTIONS = [
  'Does the Service work by IP\\?',
  'Beyond the guide: UDP',
  'Beyond the guide: NodePort',
  'Beyond the guide: source IP',
  'Network guard',
];

describe('svc-conformance run --cni flannel', () => {
  it('passes the cross-node sections over a VXLAN overlay, keeps VXLAN on the segment, and leaves nothing', async () => {
    const env = cliEnv(FLANNEL);
    const focus = sectionsFocus(OVERLAY_SECTIONS);
    const r = await runCli(['run', '--cni', 'flannel', '--nodes', '2', '--focus', focus], env);
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    const by = checksByStatus(env.SVC_RESULTS!, focus);
    expect(by('failed')).toEqual([]);
    const passed = by('passed');
    expect(passed).toContain(
      "carries pod traffic between nodes as VXLAN (UDP 8472) on the nodes' segment only, routing none of it off",
    );
    expect(passed).toContain('echoes a 2,000-byte datagram whole through ClusterIP:80/UDP');
    expect(passed).toContain('echoes a 2,000-byte HTTP request whole through ClusterIP:80');
    expect(r.stdout).toMatch(/kube-proxy iptables, CNI flannel, 2 node\(s\)/);
    expect(readFileSync(join(env.SVC_RESULTS!, 'junit.xml'), 'utf8')).toContain(
      '<property name="cni" value="flannel"/>',
    );
    expect(readFileSync(join(env.SVC_RESULTS!, 'report.md'), 'utf8')).toContain('· CNI flannel ·');
    expect(await localClusterLeftovers(FLANNEL)).toEqual([]);
    console.log(
      `flannel overlay sections: ${r.stdout.trim().split('\n').pop()} in ${(r.durationMs / 1000).toFixed(1)}s`,
    );
  });
});
