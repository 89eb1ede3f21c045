// npm run conformance [-- --families [--record]] [iptables|nftables]: upstream's own tests (e2e.test
// of the pinned Kubernetes version, under the ginkgo CLI) on a throwaway local cluster, once with
// kube-proxy in iptables mode and once in nftables mode.
//   (default)   the sig-network Conformance tests, 4 processes, 2 nodes: 45 of 45 in each mode is the
//               bar. It shows the embedded cluster is a conformant Kubernetes for Services, so a failure
//               of ours on it is about the cluster under test, not about how this project builds clusters.
//   --families  the ledger's upstream tests of issue 30's families (LOCAL_RUN_FAMILIES: the data path
//               under change), 2 processes, 3 nodes in 3 zones (traffic distribution needs 3 zones);
//               --record writes each test's outcome per mode into the ledger (localCluster).
// Results: test-results/conformance.json (conformance-families.json), { kubernetes, focus, iptables:
// {...}, nftables: {...} }, each { total, passed, failed, failures: [...], skipped, seconds, procs }, and
// with --families each test's outcome and ginkgo's message.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { LocalProvider } from '../helpers/cluster/local.js';
import { versions } from '../helpers/config.js';
import { caseOf, parseGinkgoJunit } from '../helpers/coverage/ginkgo-junit.js';
import { ledgerFile, LOCAL_RUN_MODES, readLedger, type LocalRunMode } from '../helpers/coverage/ledger.js';
import { familyTests, recordLocalRuns, type FamilyTest } from '../helpers/coverage/local-runs.js';
import { upstreamFocus } from '../helpers/coverage/race.js';
import { listUpstreamTests } from '../helpers/coverage/upstream-tests.js';
import { readSettings } from '../helpers/settings.js';
import { ginkgoRun, prepareUpstream, readJunit } from './upstream-e2e.js';

const usage = (problem: string): never => {
  console.error(`conformance: ${problem} (usage: npm run conformance -- [--families [--record]] [iptables|nftables])`);
  process.exit(2);
};

function readArgs() {
  let parsed;
  try {
    parsed = parseArgs({
      options: { families: { type: 'boolean', default: false }, record: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
  } catch (error) {
    return usage((error as Error).message.replace(/\. [\s\S]*/, ''));
  }
  const { positionals, values } = parsed;
  if (positionals.length > 1) usage(`one mode at most, not "${positionals.join(' ')}"`);
  const only = positionals[0];
  if (only !== undefined && !(LOCAL_RUN_MODES as readonly string[]).includes(only))
    usage(`the mode is iptables or nftables, not "${only}"`);
  if (values.record && !values.families)
    usage("--record writes the families' outcomes into the ledger: it needs --families");
  return { ...values, modes: LOCAL_RUN_MODES.filter((m) => !only || m === only) };
}

const { families, record, modes } = readArgs();
const settings = readSettings();
const local = new LocalProvider(settings);
const upstream = families ? await listUpstreamTests(settings) : [];
const tests: FamilyTest[] = families ? familyTests(readLedger(), upstream) : [];
const plan = families
  ? {
      focus: upstreamFocus(tests, upstream),
      procs: 2,
      nodes: 3,
      zones: 3,
      prefix: 'fam',
      results: 'conformance-families',
    }
  : {
      focus: '\\[sig-network\\].*\\[Conformance\\]',
      procs: 4,
      nodes: 2,
      zones: 0,
      prefix: 'cnf',
      results: 'conformance',
    };

const results: Record<string, unknown> = { kubernetes: versions.kubernetes, focus: plan.focus };
let allPassed = true;
for (const mode of modes) {
  // Local cluster names: at most 8 letters or digits; SVC_CLUSTER_NAME (at most 5) replaces the prefix.
  const name = `${settings.run.clusterName ?? plan.prefix}${mode.slice(0, 3)}`;
  try {
    const handle = await local.up({ name, nodes: plan.nodes, zones: plan.zones || undefined, proxyMode: mode });
    const binary = await prepareUpstream(name, plan.nodes);
    const reportDir = join(settings.resultsDir, `${plan.results}-${mode}`);
    const focus = families
      ? `<the ${tests.length} titles of the ledger's families, in ${plan.results}.json>`
      : `'${plan.focus}'`;
    console.log(`conformance: ${mode}: ginkgo --procs=${plan.procs} e2e.test --ginkgo.focus=${focus}`);
    // The Conformance run keeps the node count unset, as it was measured (45 of 45).
    const nodes = families ? plan.nodes : undefined;
    const { seconds } = await ginkgoRun(binary, handle.kubeconfig, plan.focus, reportDir, plan.procs, nodes);
    const junit = readJunit(reportDir);
    const perTest = families ? await familyOutcomes(mode, reportDir) : undefined;
    const outcome = {
      total: junit.passed + junit.failed,
      passed: junit.passed,
      failed: junit.failed,
      failures: junit.failures,
      // The families' skips (ginkgo counts every spec the focus left out as skipped too).
      skipped: perTest ? perTest.filter((t) => t.outcome === 'skipped').length : junit.skipped,
      seconds,
      procs: plan.procs,
      ...(perTest ? { nodes: plan.nodes, zones: plan.zones, tests: perTest } : {}),
    };
    results[mode] = outcome;
    allPassed &&= outcome.failed === 0 && outcome.total > 0;
    console.log(
      `conformance: ${mode}: ${outcome.passed} of ${outcome.total} passed, ${outcome.skipped} skipped, in ${seconds} s`,
    );
    for (const failure of outcome.failures) console.log(`  ✗ ${failure}`);
  } finally {
    await local.down(name);
  }
}
mkdirSync(settings.resultsDir, { recursive: true });
const resultsFile = join(settings.resultsDir, `${plan.results}.json`);
// A run of one mode keeps the other mode's results of the same focus.
const previous = modes.length === 1 ? readResults(resultsFile) : {};
const same = previous.kubernetes === versions.kubernetes && previous.focus === plan.focus;
writeFileSync(resultsFile, `${JSON.stringify({ ...(same ? previous : {}), ...results }, null, 2)}\n`);
console.log(`conformance: ${resultsFile}`);
process.exitCode = allPassed ? 0 : 1;

/**
 * Each family test's outcome in this mode from ginkgo's report (a test not in it did not run:
 * failed), and with --record the ledger's localCluster of each (written at once, formatted).
 */
async function familyOutcomes(mode: LocalRunMode, reportDir: string) {
  let xml = '';
  try {
    xml = readFileSync(join(reportDir, 'junit_01.xml'), 'utf8');
  } catch {
    console.log(`conformance: ${mode}: no junit_01.xml in ${reportDir}; nothing recorded`);
    return [];
  }
  const cases = parseGinkgoJunit(xml);
  if (record) {
    const file = ledgerFile();
    const text = recordLocalRuns(readFileSync(file, 'utf8'), mode, tests, cases);
    writeFileSync(file, await format(text, { ...(await resolveConfig(file)), filepath: file }));
    console.log(`conformance: ${mode}: outcomes recorded in ${file}`);
  }
  return tests.map((t) => {
    const found = caseOf(cases, t.title);
    return {
      test: t.test,
      file: `${t.file}:${t.line}`,
      family: t.family,
      outcome: found?.outcome ?? 'not run',
      ...(found?.message ? { message: found.message } : {}),
    };
  });
}

function readResults(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
