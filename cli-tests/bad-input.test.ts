// Bad input, end to end: each case runs the real command and expects exactly one line on
// stderr that says what is wrong and what to do, exit code 2, and nothing left behind (no
// namespace carrying the run-id label on the cluster, no local cluster made).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from '../helpers/cluster/k3s.js';
import { run } from '../helpers/host/run.js';
import { Kube } from '../helpers/kube/client.js';
import { waitFor } from '../helpers/kube/wait.js';
import { RUN_ID_LABEL } from '../helpers/cluster/run-id.js';
import { cliEnv, contextOf, keptCluster, KEPT, NONE, runCli, type CliResult } from './cli.js';
import { localClusterLeftovers, runObjects } from './leftovers.js';
import { kubeconfigForServiceAccount } from './service-account.js';

const dir = mkdtempSync(join(tmpdir(), 'svc-bad-input-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** One clear line: "svc-conformance: <what is wrong>; <what to do>", and exit 2. */
function expectRefused(r: CliResult, says: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines, `stderr of a refused command:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^svc-conformance: [^;]+; .+/);
  expect(lines[0]).toMatch(says);
  expect(r.exitCode, r.stderr).toBe(2);
}

describe('bad input without a cluster: refused before anything is made', () => {
  const env = cliEnv(NONE);
  // The real docker client, aimed where no engine listens (this machine may run one of its own).
  const noDocker = { ...env, DOCKER_HOST: `unix://${join(dir, 'docker.sock')}` };
  const cases: [string, string[], RegExp][] = [
    [
      'unknown provider',
      ['run', '--provider', 'nope'],
      /unknown provider "nope"; choose one of local, kind, k3s, existing/,
    ],
    // A fresh machine may have no docker command at all; this one has the client and no engine at DOCKER_HOST.
    [
      'kind without a Docker engine',
      ['run', '--provider', 'kind'],
      /the kind provider needs (a running Docker engine, and none answers \(docker info: .+\); start Docker|Docker, and no docker command is installed; install Docker)/,
    ],
    [
      'k3s without a Docker engine',
      ['cluster', 'up', '--provider', 'k3s', '--name', NONE.name],
      /the k3s provider needs (a running Docker engine|Docker, and no docker command is installed).*or use --provider local/,
    ],
    ['unknown preset', ['run', '--preset', 'slow'], /unknown preset "slow"; choose one of quick, full/],
    [
      'a focus that matches nothing',
      ['run', '--focus', 'no such check'],
      /--focus "no such check" leaves no check to run in preset full; svc-conformance list/,
    ],
    [
      'a focus outside the preset',
      ['run', '--preset', 'quick', '--focus', 'hairpin'],
      /--focus "hairpin" leaves no check to run in preset quick/,
    ],
    [
      'an invalid focus',
      ['run', '--focus', '('],
      /--focus "\(" is not a valid regular expression \(Unterminated group\); fix the pattern/,
    ],
    ['an unknown option', ['run', '--bogus'], /unknown option --bogus; run svc-conformance --help/],
    [
      'a run id unfit for namespace names',
      ['run', '--run-id', 'Bad_ID'],
      /run id "Bad_ID" must be 1-20 lowercase letters/,
    ],
    [
      'a missing kubeconfig',
      ['run', '--kubeconfig', join(dir, 'nowhere')],
      /kubeconfig .*nowhere does not exist; pass the path of a kubeconfig file/,
    ],
    [
      'a garbled kubeconfig',
      ['run', '--kubeconfig', file('garbled', 'clusters: [\n  {name: x\n')],
      /kubeconfig .*garbled cannot be read \(.+\); check that it is a valid kubeconfig/,
    ],
    [
      'diagnose without a kubeconfig',
      ['diagnose', 'default/hostnames'],
      /diagnose needs a cluster; pass --kubeconfig FILE/,
    ],
    ['cleanup without a kubeconfig', ['cleanup'], /cleanup needs the cluster to clean; pass --kubeconfig FILE/],
    [
      'a Kubernetes version that is not a release',
      ['run', '--kubernetes', '1.33'],
      /--kubernetes 1\.33 is not a release version; give v1\.MINOR\.PATCH/,
    ],
    [
      'a Kubernetes version setup did not build',
      ['cluster', 'up', '--name', NONE.name, '--kubernetes', 'v1.30.99'],
      /Kubernetes v1\.30\.99 is not built here \(built: [^)]*v1\.34\.4[^)]*\); build it with npm run setup -- --kubernetes v1\.30\.99$/,
    ],
    [
      'an unknown address family',
      ['run', '--ip-family', 'ipv5'],
      /unknown --ip-family "ipv5"; choose one of ipv4, ipv6, dual/,
    ],
    [
      'a family the kind provider cannot make from a flag',
      ['run', '--provider', 'kind', '--ip-family', 'dual'],
      /--ip-family dual makes a local cluster; the kind provider's families come from its own config \(a kind config FILE with networking\.ipFamily: dual\): drop --ip-family or use --provider local/,
    ],
    [
      'a family for a cluster you bring',
      ['run', '--kubeconfig', file('fam-kubeconfig', 'apiVersion: v1\nkind: Config\n'), '--ip-family', 'ipv6'],
      /--ip-family ipv6 makes a local cluster; a cluster you bring serves the families it has/,
    ],
    [
      'more zones than nodes',
      ['run', '--nodes', '2', '--zones', '3'],
      /--zones "3" is not a zone count for 2 node\(s\); give a whole number from 1 to 2 \(one zone per node at most\)/,
    ],
    [
      'zones for a cluster you bring',
      ['run', '--kubeconfig', file('zone-kubeconfig', 'apiVersion: v1\nkind: Config\n'), '--zones', '1'],
      /--zones 1 labels a local cluster's nodes; a cluster you bring keeps its own zone labels: drop --zones or use --provider local/,
    ],
    ['an unknown CNI', ['run', '--cni', 'calico'], /unknown --cni "calico"; choose one of bridge, flannel/],
    [
      'a CNI for a cluster you bring',
      ['run', '--kubeconfig', file('cni-kubeconfig', 'apiVersion: v1\nkind: Config\n'), '--cni', 'flannel'],
      /--cni flannel chooses a local cluster's pod network; a cluster you bring runs its own CNI: drop --cni or use --provider local/,
    ],
    [
      'flannel on a dual-stack local cluster',
      ['cluster', 'up', '--name', NONE.name, '--cni', 'flannel', '--ip-family', 'dual'],
      /--cni flannel runs IPv4 only here; drop --ip-family dual or use --cni bridge/,
    ],
    [
      'a Kubernetes version for kind',
      ['run', '--provider', 'kind', '--kubernetes', 'v1.33.13'],
      /--kubernetes v1\.33\.13 chooses the local provider's version; the kind provider runs its image's \(v1\.34\.4\): drop --kubernetes or use --provider local/,
    ],
  ];

  // Independent of each other and of any cluster: run side by side.
  for (const [what, args, says] of cases) {
    it.concurrent(`refuses ${what}`, async () => {
      expectRefused(await runCli(args, /Docker/.test(what) ? noDocker : env), says);
    });
  }

  it('refuses a DNS address outside the Service range, and leaves no cluster behind', async () => {
    const r = await runCli(['cluster', 'up', '--name', NONE.name], {
      ...env,
      SVC_SERVICE_CIDR: '10.197.0.0/16',
      SVC_DNS_IP: '10.96.0.10',
    });
    expectRefused(r, /SVC_DNS_IP="10\.96\.0\.10" is not an address inside SVC_SERVICE_CIDR 10\.197\.0\.0\/16/);
    expect(await localClusterLeftovers(NONE)).toEqual([]);
  });

  // Needs an engine that answers (without one, the Docker case above is what a user sees).
  it('refuses k3s whose image is not in the Docker engine', async (ctx) => {
    const docker = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
      allowFailure: true,
      timeoutMs: 15_000,
    });
    if (docker.exitCode !== 0) ctx.skip('no Docker engine answers here, so the k3s image check is never reached');
    const image = 'localhost/svc-conformance/k3s:no-such-tag';
    const r = await runCli(['run', '--provider', 'k3s'], { ...env, SVC_K3S_IMAGE: image });
    expectRefused(
      r,
      /^svc-conformance: image localhost\/svc-conformance\/k3s:no-such-tag not available locally; pull it or set SVC_K3S_IMAGE \(or build .+ with `npm run setup -- --k3s`\)$/,
    );
    const made = await run('docker', ['ps', '--all', '--quiet', '--filter', `name=^${containerName(NONE.name)}$`]);
    expect(made.stdout.trim(), 'a k3s container was made').toBe('');
  });

  afterAll(async () => {
    expect(await localClusterLeftovers(NONE)).toEqual([]);
  });
});

describe('bad input against a real cluster: refused, and the cluster left as it was', () => {
  const env = cliEnv(KEPT);
  let kubeconfig: string, kube: Kube, server: string, before: string[];

  beforeAll(async () => {
    kubeconfig = await keptCluster();
    kube = new Kube(kubeconfig);
    server = kube.config.getCurrentCluster()!.server;
    before = await runObjects(kubeconfig);
  });

  afterAll(async () => {
    expect(await runObjects(kubeconfig)).toEqual(before);
  });

  it('refuses an API server that does not answer', async () => {
    // The cluster's own kubeconfig with its server moved to a port where nothing listens.
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    kc.loadFromOptions({ ...kc, clusters: kc.clusters.map((c) => ({ ...c, server: 'https://127.0.0.1:1' })) });
    const closed = file('unreachable', kc.exportConfig());
    expectRefused(
      await runCli(['run', '--kubeconfig', closed, '--context', contextOf(closed)], env),
      /the API server at https:\/\/127\.0\.0\.1:1 cannot be reached \(connect ECONNREFUSED 127\.0\.0\.1:1\); check the server address/,
    );
    expectRefused(await runCli(['diagnose', 'default/kubernetes', '--kubeconfig', closed], env), /cannot be reached/);
  });

  describe('credentials RBAC forbids', () => {
    let nobody: string, viewer: string;

    beforeAll(async () => {
      nobody = file('nobody.kubeconfig', await kubeconfigForServiceAccount(kube, 'nobody', []));
      // May list nodes and read Services, but not make namespaces: gets past attaching, not past the run's rights check.
      viewer = file(
        'viewer.kubeconfig',
        await kubeconfigForServiceAccount(kube, 'viewer', [
          { apiGroups: [''], resources: ['nodes', 'namespaces', 'services'], verbs: ['get', 'list'] },
        ]),
      );
    });

    it('refuses a user with no rights at all, naming the user and what it may not do', async () => {
      const says =
        /forbids these credentials: nodes is forbidden: User "system:serviceaccount:svc-cli-rbac:nobody" cannot list resource "nodes".*\(HTTP 403\); bind the user to a role/;
      expectRefused(
        await runCli(['run', '--kubeconfig', nobody, '--context', 'nobody', '--preset', 'quick'], env),
        says,
      );
      expectRefused(await runCli(['diagnose', 'default/kubernetes', '--kubeconfig', nobody], env), says);
      expectRefused(
        await runCli(['cleanup', '--kubeconfig', nobody], env),
        /forbids these credentials: namespaces is forbidden: User "system:serviceaccount:svc-cli-rbac:nobody"/,
      );
    });

    it('refuses a user who may look but not create namespaces, before the run makes anything', async () => {
      expectRefused(
        await runCli(['run', '--kubeconfig', viewer, '--context', 'viewer', '--preset', 'quick'], env),
        new RegExp(
          `may not create namespaces on ${server.replace(/[.]/g, '\\.')} \\(each spec runs in its own namespace\\); bind the user`,
        ),
      );
    });

    afterAll(async () => {
      await kube.deleteIfPresent({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'svc-cli-rbac' } });
      for (const kind of ['ClusterRole', 'ClusterRoleBinding'])
        await kube.deleteIfPresent({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind,
          metadata: { name: 'svc-cli-rbac-viewer' },
        });
    });
  });

  it('refuses a run id whose namespace exists already, and leaves that namespace alone', async () => {
    const runId = 'rtaken1';
    const taken = `leftover-${runId}`;
    await kube.core.createNamespace({ body: { metadata: { name: taken, labels: { [RUN_ID_LABEL]: runId } } } });
    try {
      const r = await runCli(
        ['run', '--kubeconfig', kubeconfig, '--context', contextOf(kubeconfig), '--run-id', runId, '--preset', 'quick'],
        env,
      );
      expectRefused(
        r,
        new RegExp(
          `run id ${runId} is in use on cluster ${KEPT.name}: namespace\\(s\\) ${taken} exist already; start without --run-id .* or remove .* svc-conformance cleanup --kubeconfig`,
        ),
      );
      expect(await runObjects(kubeconfig, runId)).toEqual([`Namespace/${taken}`]);
      expect((await kube.core.readNamespace({ name: taken })).status?.phase).toBe('Active');
    } finally {
      await kube.core.deleteNamespace({ name: taken });
      // Gone before the next case compares the cluster with how it was.
      await waitFor(`namespace ${taken} deleted`, 60_000, async () => {
        const left = await kube.core.listNamespace({ labelSelector: `${RUN_ID_LABEL}=${runId}` });
        return {
          done: left.items.length === 0,
          seen: left.items.map((n) => `${n.metadata?.name} (${n.status?.phase})`).join(', '),
        };
      });
    }
  });

  it('refuses to diagnose a Service that does not exist, and makes no namespace for it', async () => {
    expectRefused(
      await runCli(['diagnose', 'default/no-such-service', '--kubeconfig', kubeconfig], env),
      /Service default\/no-such-service does not exist; check the name and namespace \(kubectl get svc -n default\)/,
    );
    expect(await runObjects(kubeconfig)).toEqual(before);
  });

  it("refuses to test through the kubeconfig's current context when no context is named", async () => {
    expectRefused(
      await runCli(['run', '--kubeconfig', kubeconfig], env),
      new RegExp(
        `name the context to test with --context \\(or SVC_CONTEXT\\): an existing cluster is never tested through the kubeconfig's current context; contexts in .*: ${contextOf(kubeconfig)}`,
      ),
    );
  });

  it('refuses a kubeconfig context that does not exist', async () => {
    expectRefused(
      await runCli(['run', '--kubeconfig', kubeconfig, '--context', 'nope'], env),
      /kubeconfig .* (has no cluster for context "nope"|cannot be read)/,
    );
  });

  it('makes no local cluster for a refused run', () => {
    expect(existsSync(`/var/lib/svc-conformance/${NONE.name}`)).toBe(false);
  });
});
