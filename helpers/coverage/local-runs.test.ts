// The families' upstream tests on the local cluster: which tests they are, and how a run's outcomes
// land in the ledger, in place: one mode at a time, a reason kept while the outcome holds, ginkgo's
// message where it does not, and the rest of the file as it was.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GinkgoCase } from './ginkgo-junit.js';
import type { LedgerEntry } from './ledger.js';
import { familyTests, recordLocalRuns } from './local-runs.js';
import type { UpstreamTest } from './upstream-tests.js';

const upstreamTest = (line: number, title: string): UpstreamTest => ({
  file: 'service.go',
  line,
  title: `[sig-network] ${title}`,
  labels: ['sig-network'],
  conformance: false,
});
const upstream = [
  upstreamTest(1027, 'Services should preserve source pod IP for traffic thru service cluster IP [LinuxOnly]'),
  upstreamTest(1294, 'Services should be able to create a functioning NodePort service [Conformance]'),
  upstreamTest(2398, 'Services should be rejected when no endpoints exist'),
];
const [sourceIp, nodePort, rejected] = upstream;
const entries: LedgerEntry[] = [
  { file: 'service.go', test: sourceIp.title.slice(14), status: 'covered', family: 'source-ip', checks: ['x'] },
  { file: 'service.go', test: nodePort.title.slice(14), status: 'covered', family: 'data-path', checks: ['y'] },
  { file: 'service.go', test: rejected.title.slice(14), status: 'todo', family: 'no-endpoints' },
];

const ledger = `# the ledger's own comment
service.go:
  - test: ${entries[0].test}
    status: covered
    family: source-ip
    checks:
      - x
  - test: ${entries[1].test}
    status: covered # a comment of someone else's
    family: data-path
    checks:
      - y
  - test: ${entries[2].test}
    status: todo
    family: no-endpoints
    localCluster:
      iptables: skipped
      nftables: passed
      reason: needs 3 nodes, and the cluster had 2
`;

const passed = (t: UpstreamTest): GinkgoCase => ({ name: t.title, outcome: 'passed', state: 'passed', message: '' });
const skipped = (t: UpstreamTest, message: string): GinkgoCase => ({ ...passed(t), outcome: 'skipped', message });
const recorded = (text: string) => parse(text) as Record<string, Record<string, unknown>[]>;

describe('familyTests', () => {
  it("is the upstream tests of the ledger's entries in those families, in upstream's order", () => {
    expect(familyTests(entries, upstream, ['no-endpoints', 'source-ip']).map((t) => [t.line, t.family])).toEqual([
      [1027, 'source-ip'],
      [2398, 'no-endpoints'],
    ]);
  });
});

describe('recordLocalRuns', () => {
  const tests = familyTests(entries, upstream, ['no-endpoints', 'source-ip']);

  it("records one mode's outcomes and leaves the rest of the file as it was", () => {
    const text = recordLocalRuns(ledger, 'iptables', tests, [passed(sourceIp), skipped(rejected, 'needs 3 nodes')]);
    expect(text.startsWith("# the ledger's own comment\n")).toBe(true);
    expect(text).toContain('status: covered # a comment of someone else');
    const [source, port, reject] = recorded(text)['service.go'];
    expect(source.localCluster).toEqual({ iptables: 'passed' });
    expect(port.localCluster).toBeUndefined();
    expect(reject.localCluster).toEqual({
      iptables: 'skipped',
      nftables: 'passed',
      reason: 'needs 3 nodes, and the cluster had 2',
    });
  });

  it("takes ginkgo's message, first line, when the outcome changed; a test missing from the report failed", () => {
    const failure: GinkgoCase = {
      name: rejected.title,
      outcome: 'failed',
      state: 'timedout',
      message: '\n  Expected <string>: vm\nto equal <string>: up-node-1',
    };
    const [source, , reject] = recorded(recordLocalRuns(ledger, 'iptables', tests, [failure]))['service.go'];
    expect(reject.localCluster).toEqual({
      iptables: 'failed',
      nftables: 'passed',
      reason: 'Expected <string>: vm',
    });
    expect(source.localCluster).toEqual({
      iptables: 'failed',
      reason: "not in ginkgo's report: the run ended before it",
    });
  });

  it('drops the reason once the test passed in every mode', () => {
    const [, , reject] = recorded(recordLocalRuns(ledger, 'iptables', tests, [passed(rejected)]))['service.go'];
    expect(reject.localCluster).toEqual({ iptables: 'passed', nftables: 'passed' });
  });
});
