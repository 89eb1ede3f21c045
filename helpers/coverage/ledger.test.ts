// ledgerProblems names each way a ledger goes wrong: an upstream test left out, a test upstream no
// longer has, a status without what it needs, a check that does not exist.
import { describe, expect, it } from 'vitest';
import { versions } from '../config.js';
import { ledgerProblems, type LedgerEntry } from './ledger.js';
import type { UpstreamTest } from './upstream-tests.js';

const upstream: UpstreamTest[] = [
  {
    file: 'service.go',
    line: 740,
    title: '[sig-network] Services should serve a basic endpoint from pods [Conformance]',
    labels: ['sig-network', 'Conformance'],
    conformance: true,
  },
  {
    file: 'networking.go',
    line: 88,
    title: '[sig-network] Networking should provide Internet connection for containers [Feature:Networking-IPv4]',
    labels: ['sig-network', 'Feature:Networking-IPv4'],
    conformance: false,
  },
];
const checks = ['Does the Service have any Endpoints? lists exactly the ready pods in Endpoints'];
const basic: LedgerEntry = {
  file: 'service.go',
  test: 'Services should serve a basic endpoint from pods [Conformance]',
  status: 'partial',
  family: 'changing-backends',
  checks,
  missing: 'pods added and deleted',
  localCluster: { iptables: 'passed', nftables: 'passed' },
};
const internet: LedgerEntry = {
  file: 'networking.go',
  test: 'Networking should provide Internet connection for containers [Feature:Networking-IPv4]',
  status: 'not ours',
  reason: 'Internet egress',
};

describe('ledgerProblems', () => {
  it('accepts a ledger that names every upstream test once, with what each status needs', () => {
    expect(ledgerProblems([basic, internet], upstream, checks)).toEqual([]);
  });

  it('names an upstream test the ledger leaves out, with its line', () => {
    expect(ledgerProblems([basic], upstream, checks)).toEqual([
      'networking.go: Networking should provide Internet connection for containers [Feature:Networking-IPv4] (line 88): upstream test missing from the ledger',
    ]);
  });

  it('names a test upstream does not have, or has in another file', () => {
    expect(ledgerProblems([basic, internet, { ...internet, file: 'service.go' }], upstream, checks)).toEqual([
      `service.go: Networking should provide Internet connection for containers [Feature:Networking-IPv4]: not an upstream test at ${versions.kubernetes}`,
    ]);
  });

  it('names a check that is not among the collected names', () => {
    expect(
      ledgerProblems([{ ...basic, checks: ['Does the Service exist? nearby'] }, internet], upstream, checks),
    ).toEqual([
      'service.go: Services should serve a basic endpoint from pods [Conformance]: no check named "Does the Service exist? nearby" (svc-conformance list shows every name)',
    ]);
  });

  it('asks each status for its fields: partial for what is missing, not ours for a reason, todo for a family', () => {
    const problems = ledgerProblems(
      [
        { ...basic, missing: undefined },
        { ...internet, reason: undefined },
      ],
      upstream,
      checks,
    );
    expect(problems).toEqual([
      'service.go: Services should serve a basic endpoint from pods [Conformance]: partial needs missing',
      'networking.go: Networking should provide Internet connection for containers [Feature:Networking-IPv4]: not ours needs reason',
    ]);
    expect(
      ledgerProblems(
        [
          {
            ...basic,
            status: 'todo',
            family: undefined,
            checks: undefined,
            missing: undefined,
            localCluster: undefined,
          },
          internet,
        ],
        upstream,
        checks,
      ),
    ).toEqual(['service.go: Services should serve a basic endpoint from pods [Conformance]: todo needs family']);
  });

  it("asks the local-run families for each mode's outcome on the local cluster, and a reason unless all passed", () => {
    const onLocal = (localCluster: LedgerEntry['localCluster']) =>
      ledgerProblems([{ ...basic, localCluster }, internet], upstream, checks);
    const where = 'service.go: Services should serve a basic endpoint from pods [Conformance]';
    expect(onLocal({ iptables: 'passed', nftables: 'passed' })).toEqual([]);
    expect(onLocal({ iptables: 'skipped', nftables: 'passed', reason: 'needs 3 zones' })).toEqual([]);
    expect(onLocal({ iptables: 'failed', nftables: 'passed' })).toEqual([
      `${where}: localCluster needs a reason: why it failed or was skipped`,
    ]);
    expect(onLocal({ iptables: 'passed', nftables: 'passed', reason: 'stale' })).toEqual([
      `${where}: localCluster has a reason, but it passed in every mode`,
    ]);
    expect(onLocal({ iptables: 'passed' })).toEqual([
      `${where}: localCluster.nftables is missing: passed, failed or skipped, as npm run conformance -- --families --record writes it`,
      `${where}: localCluster needs a reason: why it failed or was skipped`,
    ]);
    expect(onLocal(undefined)).toEqual([
      `${where}: localCluster.iptables is missing: passed, failed or skipped, as npm run conformance -- --families --record writes it`,
      `${where}: localCluster.nftables is missing: passed, failed or skipped, as npm run conformance -- --families --record writes it`,
      `${where}: localCluster needs a reason: why it failed or was skipped`,
    ]);
    expect(
      ledgerProblems(
        [basic, { ...internet, localCluster: { iptables: 'passed', nftables: 'passed' } }],
        upstream,
        checks,
      ),
    ).toEqual([
      'networking.go: Networking should provide Internet connection for containers [Feature:Networking-IPv4]: localCluster is recorded only for not-ready-terminating, no-endpoints, internal-traffic-policy, source-ip, proxy-opt-out, changing-backends, health-check-nodeport, udp-conntrack, session-affinity, traffic-distribution, recovery',
    ]);
  });
});
