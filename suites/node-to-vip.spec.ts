// suites/node-to-vip.spec.ts — guide: "Is kube-proxy proxying?"
// Proves: from each node, ClusterIP:80 answers from every backend, and kube-proxy synced its rules after the Service appeared
// (a Service made for that check, hostnames-sync, gets rules sending it to its endpoints on every node, and kube-proxy's
// last sync is not older than it: a periodic sync of stale rules does not pass).
// A failure usually means: kube-proxy stopped (rules stale or flushed), or its DNAT targets are wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import { because } from '../helpers/diagnose/guide.js';
import { waitFor, WaitTimeoutError } from '../helpers/kube/wait.js';
import { kubeProxyStatus, syncProblems } from '../helpers/node/kube-proxy.js';
import { programmedDestinations } from '../helpers/node/proxy-rules.js';
import { nodeAccessSkipReason } from '../helpers/node/run-on-node.js';
import { useDiagnosis } from '../helpers/suite/diagnosis.js';
import { skipAllWith, useCluster, useNamespace } from '../helpers/suite/fixtures.js';
import {
  createService,
  deployHostnames,
  HOSTNAMES_PORT,
  type ExtraService,
  type Hostnames,
} from '../helpers/workloads/hostnames.js';
import { hostPort } from '../helpers/address.js';
import { everyBackendProblems } from '../helpers/workloads/every-backend.js';
import { nodeVantage } from '../helpers/workloads/vantage.js';

/** The Service whose rules the sync check watches appear, made after the backends are up. */
const SYNCED = 'hostnames-sync';
/** The modes whose rules programmedDestinations reads. */
const RULE_MODES = ['iptables', 'nftables', 'ipvs'];

describe('Is kube-proxy proxying?', () => {
  const cluster = useCluster();
  const noAccess = nodeAccessSkipReason(cluster);
  skipAllWith(noAccess);
  const ns = useNamespace('node-vip');
  useDiagnosis(ns, 'hostnames', SYNCED);
  let app: Hostnames, synced: ExtraService;

  beforeAll(async () => {
    if (noAccess) return;
    app = await deployHostnames(cluster, ns);
    synced = await createService(cluster, app, SYNCED); // not waited for: the check watches its rules appear
  });

  for (const node of cluster.nodes) {
    it(`answers ClusterIP:80 from node ${node.name}, from every backend pod`, async () => {
      const clusterIP = { what: 'the ClusterIP', address: hostPort(app.clusterIP, app.port) };
      const problems = await everyBackendProblems(
        [nodeVantage(cluster, node)],
        'TCP',
        [clusterIP],
        await app.backendsNow(),
      );
      expect(problems, because('proxying', problems.join('\n'))).toEqual([]);
    });

    it(`shows kube-proxy on ${node.name} synced its rules after the Service was created`, async ({ skip }) => {
      const created = new Date(synced.service.metadata!.creationTimestamp!).getTime() / 1000;
      const want = (await app.backendsNow()).map((p) => hostPort(p.ip, HOSTNAMES_PORT)).sort();
      const status = await kubeProxyStatus(cluster, node);
      expect(status.running, because('proxying', `kube-proxy on ${node.name}: ${status.problem}`)).toBe(true);
      const mode = status.mode ?? cluster.capabilities.proxyMode;
      if (!RULE_MODES.includes(mode)) skip(`no rule parser for kube-proxy mode ${mode}`);
      const ref = {
        namespace: ns,
        name: SYNCED,
        portName: 'default',
        protocol: 'tcp',
        clusterIP: synced.clusterIP,
        port: synced.port,
      };
      let rules: string[] = [];
      // Polled until they match or the budget ends: how long kube-proxy may take to sync is its business.
      const timedOut = await waitFor(
        `kube-proxy rules on ${node.name} for ${ns}/${SYNCED}`,
        cluster.settings.timeouts.serviceSync,
        async () => {
          rules = (await programmedDestinations(cluster, node, ref, mode)) ?? [];
          return { done: rules.join() === want.join(), seen: rules.join(', ') || 'none' };
        },
      ).then(
        () => '',
        (error: unknown) => {
          if (error instanceof WaitTimeoutError) return `; ${error.message}`;
          throw error;
        },
      );
      const lastSync = (await kubeProxyStatus(cluster, node)).lastSync;
      expect(
        syncProblems({ node: node.name, created, lastSync, rules, want }),
        because(
          'proxying',
          `${ns}/${SYNCED} (created ${new Date(created * 1000).toISOString()}) on ${node.name}${timedOut}`,
        ),
      ).toEqual([]);
    });
  }
});
