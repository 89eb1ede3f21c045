// `svc-conformance scale` as a CNI maintainer runs it: bad input is one line and exit 2 with
// nothing made; a real run on the kept local cluster measures every Service, runs the quick
// preset with them in place, writes scale.json and the report's Scale section with its plot,
// ends with exit 1 when the gate is broken, and leaves nothing behind. Its probe load stays on
// the machine: the guard's uplink counter does not move while it runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterLayout } from '../helpers/cluster/local/layout.js';
import { readGuardCounters } from '../helpers/cluster/local/network.js';
import { readSettings } from '../helpers/settings.js';
import { cliEnv, keptCluster, KEPT, NONE, runCli, type CliResult } from './cli.js';
import { leftAfterRun, localClusterLeftovers } from './leftovers.js';

const refused = (r: CliResult, says: RegExp) => {
  expect(r.exitCode, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(says);
};

describe("scale's bad input: one line, exit 2, no cluster made", () => {
  it.each([
    [['scale', '--services', '0'], /^svc-conformance: --services "0" must be a whole number from 1 to 20000$/],
    [['scale', '--endpoints', 'many'], /^svc-conformance: --endpoints "many" must be a whole number from 1 to 50$/],
    [
      ['scale', '--max-p99', 'soon'],
      /^svc-conformance: --max-p99 "soon" is not a duration; write it like 5s, 500ms or 2m$/,
    ],
    [['scale', '--proxy-mode', 'ipvs'], /ipvs mode is not measured: use --proxy-mode iptables or nftables$/],
    [['run', '--services', '5'], /^svc-conformance: --services belongs to the scale command/],
    [
      ['scale', '--name', 'bench-ipt'],
      /^svc-conformance: cluster name "bench-ipt" must be 1-8 lowercase letters or digits/,
    ],
  ])('%j', async (args, says) => {
    refused(await runCli(args, cliEnv(NONE)), says);
    expect(await localClusterLeftovers(NONE)).toEqual([]);
  });
});

describe('scale on a local cluster', () => {
  let kubeconfig: string;
  beforeAll(async () => void (kubeconfig = await keptCluster()));

  it('measures every Service, checks the VIPs and the quick preset with them in place, and gates on p99', async () => {
    const env = cliEnv(KEPT);
    const layout = clusterLayout(KEPT.name, 1, readSettings(env));
    const guardBefore = await readGuardCounters(layout);
    const r = await runCli(
      ['scale', '--services', '60', '--endpoints', '2', '--max-p99', '1ms', '--run-id', 'rscale1'],
      env,
    );
    const guardAfter = await readGuardCounters(layout);
    expect(r.exitCode, `${r.stdout.slice(-3000)}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/^scale: gate: p99 create → programmed [\d.]+ s is over --max-p99 0\.001 s$/m);

    const results = env.SVC_RESULTS!;
    const scale = JSON.parse(readFileSync(join(results, 'scale.json'), 'utf8'));
    expect(scale).toMatchObject({
      services: 60,
      endpointsPerService: 2,
      proxyMode: 'iptables',
      nodes: 1,
      programmed: { missing: 0 },
      firstAnswer: { sampled: 60, missing: 0 },
      removal: { sampled: 60, missing: 0 },
      sampled: { vips: 60, allBackendsAnswered: 60 },
      dns: { names: 3, answered: 3 },
      quickWithServices: { failed: 0 },
    });
    expect(scale.programmed.p50).toBeGreaterThan(0);
    expect(scale.programmed.p99).toBeGreaterThanOrEqual(scale.programmed.p50);
    expect(scale.quickWithServices.passed).toBeGreaterThan(10);
    expect(scale.syncSeconds.rounds).toBeGreaterThan(0);
    expect(scale.rules.perNode[0].rules).toBeGreaterThan(60 * 4);
    expect(scale.points).toHaveLength(60);
    expect(readFileSync(join(results, 'report.md'), 'utf8')).toContain('## Scale');
    expect(readFileSync(join(results, 'scale.svg'), 'utf8')).toMatch(/^<svg/);
    expect(existsSync(join(results, 'scale-quick', 'report.md'))).toBe(true);

    // The probes that hit VIPs before their rules existed died on this machine, never on the uplink.
    expect(guardAfter.fabricRejected).toBeGreaterThan(guardBefore.fabricRejected); // they reached the guard...
    expect(guardAfter.uplinkStopped - guardBefore.uplinkStopped).toBe(0); // ...and nothing got past it
    expect(await leftAfterRun(kubeconfig, 'rscale1')).toEqual([]);
  }, 600_000);
});
