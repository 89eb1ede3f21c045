// npm run conformance: upstream's own sig-network Conformance tests (e2e.test of the pinned
// Kubernetes version, under the ginkgo CLI with 4 processes) on a throwaway two-node local
// cluster, once with kube-proxy in iptables mode and once in nftables mode. 45 of 45 in each is
// the bar: it shows the embedded cluster is a conformant Kubernetes for Services, so a failure
// of ours on it is about the cluster under test, not about how this project builds clusters.
// Results: test-results/conformance.json, { kubernetes, iptables: {...}, nftables: {...} },
// each { total, passed, failed, failures: [...], seconds, procs }.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalProvider } from '../helpers/cluster/local.js';
import { versions } from '../helpers/config.js';
import { readSettings } from '../helpers/settings.js';
import { ginkgoRun, prepareUpstream, readJunit } from './upstream-e2e.js';

const FOCUS = '\\[sig-network\\].*\\[Conformance\\]';
const PROCS = 4;
const MODES = ['iptables', 'nftables'] as const;

const settings = readSettings();
const local = new LocalProvider(settings);
const only = process.argv[2];
if (only !== undefined && !(MODES as readonly string[]).includes(only)) {
  console.error(`conformance: the mode is iptables or nftables, not "${only}"`);
  process.exit(2);
}

const results: Record<string, unknown> = { kubernetes: versions.kubernetes, focus: FOCUS };
let allPassed = true;
for (const mode of MODES.filter((m) => !only || m === only)) {
  const name = `cnf${mode.slice(0, 3)}`; // local cluster names: at most 8 letters or digits
  try {
    const handle = await local.up({ name, nodes: 2, proxyMode: mode });
    const binary = await prepareUpstream(name, 2);
    const reportDir = join(settings.resultsDir, `conformance-${mode}`);
    console.log(`conformance: ${mode}: ginkgo --procs=${PROCS} e2e.test --ginkgo.focus='${FOCUS}'`);
    const { seconds } = await ginkgoRun(binary, handle.kubeconfig, FOCUS, reportDir, PROCS);
    const junit = readJunit(reportDir);
    const outcome = {
      total: junit.passed + junit.failed,
      passed: junit.passed,
      failed: junit.failed,
      failures: junit.failures,
      skipped: junit.skipped,
      seconds,
      procs: PROCS,
    };
    results[mode] = outcome;
    allPassed &&= outcome.failed === 0 && outcome.total > 0;
    console.log(`conformance: ${mode}: ${outcome.passed} of ${outcome.total} passed in ${seconds} s`);
    for (const failure of outcome.failures) console.log(`  ✗ ${failure}`);
  } finally {
    await local.down(name);
  }
}
mkdirSync(settings.resultsDir, { recursive: true });
writeFileSync(join(settings.resultsDir, 'conformance.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`conformance: ${join(settings.resultsDir, 'conformance.json')}`);
process.exitCode = allPassed ? 0 : 1;
