// A dual-stack local cluster, made by the run itself (--ip-family dual, two nodes) and removed after: the specs
// whose checks depend on address families pass with no skip for the family, the network guard refuses outside
// IPv6 addresses as it does IPv4 ones (its fabric counting them, nothing at the uplink), and nothing is left.
import { describe, expect, it } from 'vitest';
import { checksByStatus, cliEnv, DUAL, runCli, sectionsFocus } from './cli.js';
import { localClusterLeftovers } from './leftovers.js';

/** The sections that care about families: IPv6/dual-stack, ClusterIP, DNS, kube-proxy's rules, NodePort, and the guard. */
const FAMILY_SECTIONS = [
  'Beyond the guide: IPv6 and dual-stack',
  'Does the Service work by IP\\?',
  'Does (the|any) Service work by DNS name\\?',
  'Is kube-proxy writing iptables rules\\?',
  'Beyond the guide: NodePort',
  'Network guard',
];

describe('svc-conformance run --ip-family dual', () => {
  it('passes the family sections on a two-node dual-stack cluster, guards IPv6 too, and leaves nothing', async () => {
    const env = cliEnv(DUAL);
    const focus = sectionsFocus(FAMILY_SECTIONS);
    const r = await runCli(['run', '--ip-family', 'dual', '--nodes', '2', '--focus', focus], env);
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(0);
    const by = checksByStatus(env.SVC_RESULTS!, focus);
    expect(by('failed')).toEqual([]);
    // Only the other proxy modes' rule checks skip (this cluster runs iptables), and the overlay's guard check
    // (it needs --cni flannel); nothing for a family.
    expect(by('skipped').filter((t) => !/^(nftables|ipvs) mode:|as VXLAN \(UDP 8472\)/.test(t))).toEqual([]);
    const passed = by('passed');
    for (const family of ['IPv4', 'IPv6']) {
      for (const from of ['pod', 'node'])
        expect(passed).toContain(`refuses an outside public ${family} address from a ${from}, on the machine`);
      expect(passed).toContain(
        `does not answer an ${family} Service IP that no Service owns, and sends nothing out for it`,
      );
    }
    expect(passed).toContain('reaches every backend through the IPv6 ClusterIP');
    expect(r.stdout).toMatch(/Kubernetes v1\.\d+\.\d+, kube-proxy iptables, CNI bridge, 2 node\(s\)/);
    expect(await localClusterLeftovers(DUAL)).toEqual([]);
    console.log(
      `dual-stack family sections: ${r.stdout.trim().split('\n').pop()} in ${(r.durationMs / 1000).toFixed(1)}s`,
    );
  });
});
