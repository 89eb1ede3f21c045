// npm run selftest: does the suite catch a broken cluster, and name the right cause?
// On a throwaway 2-node local cluster, for each fault: inject it, run the specs it should
// break, check that the expected spec failed and that a failure's verdict names the cause,
// undo it, and check those specs are green again. Rates go to test-results/selftest.json.
// Workload faults are JSON Patches for the spec's own objects (SVC_WORKLOAD_PATCH), applied as
// the workload helpers create them: the specs and helpers run as they are.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { LocalProvider } from '../helpers/cluster/local.js';
import { startDaemon, stopDaemons, type Daemon } from '../helpers/cluster/local/daemons.js';
import { repoRoot, versions } from '../helpers/config.js';
import { run } from '../helpers/host/run.js';
import { Kube } from '../helpers/kube/client.js';
import { execInPod } from '../helpers/kube/exec.js';
import { waitFor } from '../helpers/kube/wait.js';
import { RUN_ID_LABEL } from '../helpers/cluster/run-id.js';
import { childEnv, readSettings, type CniChoice, type IpFamilyChoice } from '../helpers/settings.js';
import { clusterLayout } from '../helpers/cluster/local/layout.js';
import { METALLB_NAMESPACE, METALLB_POOL } from '../helpers/cluster/metallb.js';
import { addressInRange } from '../helpers/parse/cidr.js';
import type { WorkloadPatch } from '../helpers/workloads/patches.js';
import { hostProbe } from '../helpers/node/node-probe.js';
import { parseProbeOutput, type LookupResult } from '../helpers/parse/svcprobe.js';

const settings = readSettings();
const resultsDir = settings.resultsDir;

const NAME = 'selftest';
const stateFile = `/var/lib/svc-conformance/${NAME}/state.json`;
const cli = join(repoRoot, 'bin', 'svc-conformance.js');

interface Fault {
  name: string;
  /** The expected spec must fail within this many seconds (a cause that cannot clear fails at once). */
  maxSeconds?: number;
  focus: string; // the specs this fault must break (a --focus regex)
  spec: string; // a spec file that must be among the failures
  cause: RegExp; // what a failure's verdict must say
  wrongCause?: RegExp; // what no verdict line may say (a component the fault does not touch)
  oneLine?: boolean; // the setup failure must read as one line: no HTTP body or headers, no stack
  patches?: WorkloadPatch[]; // workload faults: applied to the spec's objects as they are made
  inject?: () => void | Promise<void>;
  undo?: () => void | Promise<void>;
  /** The cluster's CNI (default bridge): the overlay faults run on a flannel cluster of the same name. */
  cni?: CniChoice;
  /** The cluster's address families (default ipv4): the second family's faults run on a dual-stack one. */
  ipFamily?: IpFamilyChoice;
}

const state = () =>
  JSON.parse(readFileSync(stateFile, 'utf8')) as { daemons: Daemon[]; handle: { kubeconfig: string } };
const kube = () => new Kube(state().handle.kubeconfig);
const daemons = (prefix: string) => state().daemons.filter((d) => d.component.startsWith(prefix));
const inNode = (i: number, ...cmd: string[]) => run('ip', ['netns', 'exec', `svc-${NAME}-n${i}`, ...cmd]);
const conflist = (i: number) => `/var/lib/svc-conformance/${NAME}/${NAME}-node-${i}/cni/10-svc-conformance.conflist`;
const kubeletConfig = (i: number) => `/var/lib/svc-conformance/${NAME}/${NAME}-node-${i}/kubelet.yaml`;
const edit = (file: string, from: string, to: string) =>
  writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));

/** Restarts daemons from their recorded command and records the new pids. */
async function restart(prefix: string): Promise<void> {
  const s = JSON.parse(readFileSync(stateFile, 'utf8'));
  await stopDaemons(daemons(prefix));
  for (const d of s.daemons as Daemon[])
    if (d.component.startsWith(prefix)) Object.assign(d, await startDaemon(d.start));
  writeFileSync(stateFile, JSON.stringify(s, null, 2));
}

const scaleCoreDNS = (replicas: number) =>
  kube().apps.patchNamespacedDeploymentScale(
    { namespace: 'kube-system', name: 'coredns', body: { spec: { replicas } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );

const podRoutes = async (op: 'add' | 'del') => {
  await run('ip', [
    '-n',
    `svc-${NAME}-n1`,
    'route',
    op,
    '10.244.2.0/24',
    ...(op === 'add' ? ['via', '10.250.0.12'] : []),
  ]);
  await run('ip', [
    '-n',
    `svc-${NAME}-n2`,
    'route',
    op,
    '10.244.1.0/24',
    ...(op === 'add' ? ['via', '10.250.0.11'] : []),
  ]);
};

/**
 * Fault 8 lives while the spec runs: a loop deletes the DNAT of one hostnames endpoint as kube-proxy writes it.
 * One victim per clusterip namespace, kept for the loop's life: the node may still hold the rules of the previous
 * run's Service (its namespace is emptied, kube-proxy not yet synced), and a victim taken from those would spare the new one.
 */
let dnatLoop: NodeJS.Timeout | undefined;
const victims = new Map<string, string>(); // namespace → endpoint whose DNAT goes
async function deleteOneDnat(): Promise<void> {
  const dump = (await inNode(1, 'iptables-save', '-t', 'nat')).stdout.split('\n');
  for (const rule of dump) {
    const m = /^-A KUBE-SEP-.*"(clusterip-[^/"]+)\/hostnames:default".*-j DNAT .*--to-destination (\S+)/.exec(rule);
    if (!m) continue;
    if (!victims.has(m[1])) victims.set(m[1], m[2]);
    if (victims.get(m[1]) === m[2])
      await inNode(1, 'sh', '-c', `iptables -t nat ${rule.replace(/^-A/, '-D')}`).catch(() => undefined);
  }
}

/** Runs nft with a ruleset on stdin in a node's network namespace. */
const nftInNode = (i: number, rules: string) =>
  run('ip', ['netns', 'exec', `svc-${NAME}-n${i}`, 'nft', '-f', '-'], { input: rules });

/** A host firewall as hardening guides write /etc/nftables.conf: forwarding off unless allowed. */
const HOST_FIREWALL = `table inet host_firewall {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
  }
}
`;

/** Restarts kube-controller-manager with its --controllers flag changed by `change`. */
async function restartControllerManager(change: (controllers: string) => string): Promise<void> {
  const s = JSON.parse(readFileSync(stateFile, 'utf8')) as { daemons: Daemon[] };
  for (const d of s.daemons)
    if (d.component.startsWith('kube-controller-manager'))
      d.start.args = d.start.args.map((a) =>
        a.startsWith('--controllers=') ? `--controllers=${change(a.slice(14))}` : a,
      );
  writeFileSync(stateFile, JSON.stringify(s, null, 2));
  await restart('kube-controller-manager');
}

/** A hardening policy: every container of the run's pods must set a memory limit (the suites' pods set none). */
const LIMITS_POLICY = [
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'svc-selftest-require-limits' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      },
      validations: [
        {
          expression: "object.spec.containers.all(c, has(c.resources.limits) && 'memory' in c.resources.limits)",
          message: 'every container must set a memory limit',
        },
      ],
    },
  },
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'svc-selftest-require-limits' },
    spec: {
      policyName: 'svc-selftest-require-limits',
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchExpressions: [{ key: RUN_ID_LABEL, operator: 'Exists' }] } },
    },
  },
];

/** A JSON Patch for the guide's `hostnames` objects. */
const hostnames = (kind: 'Service' | 'Deployment', path: string, value: unknown): WorkloadPatch[] => [
  { kind, name: 'hostnames', patch: [{ op: 'replace', path, value }] },
];

/**
 * The readiness fault: hostnames pods get a probe that fails once /tmp/unready exists, first asked 5 s after
 * start; in that time a loop writes the file in one pod of each clusterip namespace, so that pod never turns Ready.
 */
const UNREADY_PROBE = {
  exec: { command: ['sh', '-c', '[ ! -e /tmp/unready ]'] },
  initialDelaySeconds: 5,
  periodSeconds: 1,
  failureThreshold: 1,
};
let unreadyLoop: NodeJS.Timeout | undefined;
const madeUnready = new Set<string>(); // namespaces with their one unready pod
async function makeOnePodUnready(): Promise<void> {
  const pods = await kube().core.listPodForAllNamespaces({ labelSelector: 'app=hostnames' });
  for (const pod of pods.items) {
    const namespace = pod.metadata!.namespace!;
    const started = pod.status?.containerStatuses?.[0]?.started;
    if (!namespace.startsWith('clusterip-') || madeUnready.has(namespace) || !started) continue;
    const name = pod.metadata!.name!;
    const wrote = await execInPod(kube(), { namespace, name }, ['sh', '-c', 'echo x > /tmp/unready']).then(
      () => true,
      () => false,
    );
    if (wrote) madeUnready.add(namespace);
  }
}

/**
 * kube-proxy mutants: kube-proxy built by setup from the pinned source with one regression each
 * (setup/kube-proxy-mutants/NAME.patch). The fault runs that binary on every node in place of kube-proxy.
 */
function mutantBinary(name: string): string {
  const patch = readFileSync(join(repoRoot, 'setup', 'kube-proxy-mutants', `${name}.patch`));
  const hash = createHash('sha256').update(patch).digest('hex').slice(0, 12);
  const binary = join(
    settings.cacheDir,
    'bin',
    `kube-proxy-mutants-${versions.kubernetes}`,
    `${name}-${hash}`,
    'kube-proxy',
  );
  if (!existsSync(binary)) throw new Error(`kube-proxy mutant ${name} is not built (${binary}): run npm run setup`);
  return binary;
}
let upstreamProxy: string | undefined;
async function swapKubeProxy(binary: string | undefined): Promise<void> {
  const s = JSON.parse(readFileSync(stateFile, 'utf8')) as { daemons: Daemon[] };
  for (const d of s.daemons)
    if (d.component.startsWith('kube-proxy')) {
      upstreamProxy ??= d.start.command;
      d.start.command = binary ?? upstreamProxy;
    }
  writeFileSync(stateFile, JSON.stringify(s, null, 2));
  await restart('kube-proxy');
  // The next run starts once each node's kube-proxy has synced with the new binary (healthz 200 after its first sync).
  for (const i of [1, 2]) {
    const healthz = [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-m',
      '2',
      'http://127.0.0.1:10256/healthz',
    ];
    await waitFor(`kube-proxy on ${NAME}-node-${i} healthy after the swap`, 60_000, async () => {
      const r = await run('ip', ['netns', 'exec', `svc-${NAME}-n${i}`, ...healthz], { allowFailure: true });
      return { done: r.stdout.trim() === '200', seen: `HTTP ${r.stdout.trim() || r.stderr.trim()}` };
    });
  }
}
const mutant = (name: string) => ({
  inject: () => swapKubeProxy(mutantBinary(name)),
  undo: () => swapKubeProxy(undefined),
});

/** The node CoreDNS's (first ready) pod runs on: every pod's query crosses its filter hooks. */
async function corednsNode(): Promise<number> {
  const pods = await kube().core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
  const node = pods.items.find((p) => p.status?.podIP)?.spec?.nodeName ?? `${NAME}-node-1`;
  return Number(node.split('-').at(-1));
}
let dnsFilterNode = 1;
const UDP_DNS_DROP = ['FORWARD', '-p', 'udp', '--dport', '53', '-j', 'DROP'];
/** A host nftables table of its own that drops DNS over UDP it forwards (TCP passes). */
const NFT_DNS_DROP = `table inet host_dns_filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    udp dport 53 drop
  }
}
`;

/** Rewrites CoreDNS's Corefile and replaces its pods, so they start with it; waits until one is Ready again. */
async function setCorefile(change: (corefile: string) => string): Promise<void> {
  const config = await kube().core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' });
  await kube().core.patchNamespacedConfigMap(
    { namespace: 'kube-system', name: 'coredns', body: { data: { Corefile: change(config.data!.Corefile!) } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await kube().core.deleteCollectionNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
  for (let waited = 0; waited < 60_000; waited += 1000) {
    await sleep(1000);
    const pods = await kube().core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    const ready = pods.items.filter(
      (p) =>
        !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length) return;
  }
  throw new Error('CoreDNS did not turn Ready within 60 s after its Corefile changed');
}

/** The local cluster's kubernetes plugin line, with the reverse zones a PTR query needs. */
const REVERSE_ZONES = 'kubernetes cluster.local in-addr.arpa ip6.arpa {';

/** A host rule that accepts packets conntrack marks INVALID: inserted first in FORWARD, ahead of kube-proxy's drop. */
const INVALID_ACCEPT = ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'ACCEPT'];

/** kube-proxy on node-2, stopped as a deadlock or a held xtables lock leaves it: the process stays, nothing answers. */
const proxyPid = (i: number) => daemons('kube-proxy').find((d) => d.component === `kube-proxy-${i}`)!.pid;
let hungTimer: NodeJS.Timeout | undefined;

/** A taint no pod of the suites tolerates, on every node. */
async function taintNodes(add: boolean): Promise<void> {
  for (const i of [1, 2]) {
    const name = `${NAME}-node-${i}`;
    const node = await kube().core.readNode({ name });
    const others = (node.spec?.taints ?? []).filter((t) => t.key !== 'svc-selftest/blocked');
    const taints = add ? [...others, { key: 'svc-selftest/blocked', effect: 'NoSchedule' }] : others;
    await kube().core.patchNode(
      { name, body: { spec: { taints } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** A flannel cluster's node 2 loses its overlay as a reboot without flanneld leaves it: the VXLAN device and its routes gone, its pods restarted. */
async function flannelGoneOnNode2(): Promise<void> {
  await stopDaemons(daemons('flanneld-2'));
  await inNode(2, 'ip', 'link', 'del', 'flannel.1');
  const pods = await kube().core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${NAME}-node-2` });
  for (const pod of pods.items)
    await kube().core.deleteNamespacedPod({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name! });
}

/** flanneld back on node 2, and the overlay with it: its route to node 1's pods through flannel.1. */
async function flannelBackOnNode2(): Promise<void> {
  await restart('flanneld-2');
  const node1Pods = clusterLayout(NAME, 2, settings).nodes[0].podCIDR;
  for (let i = 0; i < 60; i++) {
    const routes = await run('ip', ['-n', `svc-${NAME}-n2`, 'route', 'show', node1Pods], { allowFailure: true });
    if (routes.stdout.includes('flannel.1')) return;
    await sleep(500);
  }
  throw new Error(`flanneld on ${NAME}-node-2 did not route ${node1Pods} through flannel.1 again within 30 s`);
}

/** Node 2's interface MTU changed under flannel (as a cloud or DHCP change does): flannel.1 and the pods keep 1450. */
async function shrinkNode2Mtu(mtu: number): Promise<void> {
  await inNode(2, 'ip', 'link', 'set', 'eth0', 'mtu', String(mtu));
  // Connections made before the change keep their larger segments, which the node now drops: its daemons reconnect.
  await restart('kube-proxy-2');
  await restart('kubelet-2');
}

const VXLAN_DROP = ['INPUT', '-p', 'udp', '--dport', '8472', '-j', 'DROP'];

/** MetalLB's speakers, all of them: a nodeSelector key no node has empties the DaemonSet (undo: the key removed). */
async function speakersOnNoNode(stopped: boolean): Promise<void> {
  await kube().apps.patchNamespacedDaemonSet(
    {
      namespace: METALLB_NAMESPACE,
      name: 'speaker',
      body: {
        spec: { template: { spec: { nodeSelector: { 'svc-selftest/no-such-node': stopped ? 'true' : null } } } },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  const speakers = async () =>
    (await kube().core.listNamespacedPod({ namespace: METALLB_NAMESPACE, labelSelector: 'component=speaker' })).items;
  if (stopped) await waitForSelftest('no speaker pod left', async () => (await speakers()).length === 0);
  else
    await waitForSelftest(
      'a ready speaker on both nodes',
      async () =>
        (await speakers()).filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          .length === 2,
    );
}

const SQUATTER = { namespace: 'default', name: 'svc-selftest-squatter' };

/** The pool shrunk to one address, held by a Service of its own: the next Service finds none left (undo: the range again). */
async function poolExhausted(exhausted: boolean): Promise<void> {
  const range = settings.network.loadBalancerIPRange;
  const only = `${addressInRange(range, 1)}/32`;
  await kube().objects.patch(
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { namespace: METALLB_NAMESPACE, name: METALLB_POOL },
      spec: { addresses: [exhausted ? only : range] },
    } as never,
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  );
  if (!exhausted) {
    await kube()
      .core.deleteNamespacedService(SQUATTER)
      .catch(() => undefined);
    return;
  }
  await kube().apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: SQUATTER,
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
  });
  await waitForSelftest(
    `${SQUATTER.name} holding ${only}`,
    async () => !!(await kube().core.readNamespacedService(SQUATTER)).status?.loadBalancer?.ingress?.length,
  );
}

/** Polls `done` every second for a minute: the fault is in place only once it holds. */
async function waitForSelftest(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await done()) return;
    await sleep(1000);
  }
  throw new Error(`self-test: ${what} not reached in 60 s`);
}

const FAULTS: Fault[] = [
  {
    name: 'Service selector typo',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /selector app=hostnamez matches no pods/,
    patches: hostnames('Service', '/spec/selector', { app: 'hostnamez' }),
  },
  {
    name: 'wrong targetPort',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /no container declares port 9377/,
    patches: hostnames('Service', '/spec/ports/0/targetPort', 9377),
  },
  {
    name: 'named targetPort no container has',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /no container port is named "http"/,
    patches: hostnames('Service', '/spec/ports/0/targetPort', 'http'),
  },
  {
    name: 'readiness failing on one pod',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /1 of 3 pods .* not Ready/,
    patches: hostnames('Deployment', '/spec/template/spec/containers/0/readinessProbe', UNREADY_PROBE),
    inject: () => void (unreadyLoop = setInterval(() => void makeOnePodUnready().catch(() => undefined), 300)),
    undo: () => clearInterval(unreadyLoop),
  },
  {
    name: 'CoreDNS scaled to 0',
    focus: 'DNS name',
    spec: 'dns',
    cause: /CoreDNS has no ready pods/,
    inject: () => scaleCoreDNS(0).then(() => undefined),
    undo: () => scaleCoreDNS(1).then(() => undefined),
  },
  {
    name: 'kubelet clusterDNS wrong',
    focus: 'DNS name',
    spec: 'dns',
    cause: /clusterDNS is wrong/,
    inject: async () => {
      for (const i of [1, 2]) edit(kubeletConfig(i), '- 10.96.0.10', '- 10.96.0.99');
      await restart('kubelet');
    },
    undo: async () => {
      for (const i of [1, 2]) edit(kubeletConfig(i), '- 10.96.0.99', '- 10.96.0.10');
      await restart('kubelet');
    },
  },
  {
    name: 'kube-proxy stopped and its rules flushed',
    focus: 'work by IP|kube-proxy working',
    spec: 'kube-proxy',
    cause: /kube-proxy is not running|kube-proxy on .* healthz/,
    inject: async () => {
      await stopDaemons(daemons('kube-proxy'));
      for (const i of [1, 2]) await inNode(i, 'iptables', '-t', 'nat', '-F', 'KUBE-SERVICES');
    },
    undo: () => restart('kube-proxy'),
  },
  {
    name: "one endpoint's DNAT rule deleted on a node",
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /rules on selftest-node-1 .*(no rule for|sending)/,
    inject: () => void (dnatLoop = setInterval(() => void deleteOneDnat(), 150)),
    undo: () => clearInterval(dnatLoop),
  },
  {
    name: 'hairpin mode off (CNI bridge hairpinMode false)',
    focus: 'reach itself',
    spec: 'hairpin',
    cause: /hairpin is off|hairpin_mode 0/,
    inject: () => [1, 2].forEach((i) => edit(conflist(i), '"hairpinMode": true', '"hairpinMode": false')),
    undo: () => [1, 2].forEach((i) => edit(conflist(i), '"hairpinMode": false', '"hairpinMode": true')),
  },
  {
    name: 'pod routes between the two nodes removed',
    focus: 'Pods working',
    spec: 'pods',
    cause: /only same-node backends answer|no route to 10\.244/,
    inject: () => podRoutes('del'),
    undo: () => podRoutes('add'),
  },
  // The node layer: changes a host, its firewall or a second container engine makes, that neither the CNI
  // nor kube-proxy undoes. The verdict must name the node and the setting, never CoreDNS.
  {
    name: 'FORWARD policy DROP on node-1 (what Docker sets)',
    focus: 'Pods working|DNS name',
    spec: 'pods',
    cause: /selftest-node-1 drops the pod traffic it forwards: iptables filter FORWARD on selftest-node-1: policy drop/,
    wrongCause: /CoreDNS/,
    inject: () => inNode(1, 'iptables', '-P', 'FORWARD', 'DROP').then(() => undefined),
    undo: () => inNode(1, 'iptables', '-P', 'FORWARD', 'ACCEPT').then(() => undefined),
  },
  {
    name: 'nftables host firewall on node-2: forward policy drop',
    focus: 'Pods working|work by IP',
    spec: 'pods',
    cause:
      /selftest-node-2 drops the pod traffic it forwards: nft inet host_firewall chain forward on selftest-node-2: policy drop/,
    wrongCause: /CoreDNS/,
    inject: () => nftInNode(2, HOST_FIREWALL).then(() => undefined),
    undo: () => inNode(2, 'nft', 'delete', 'table', 'inet', 'host_firewall').then(() => undefined),
  },
  {
    name: 'anti-spoofing rule on node-1: drop pod-range sources arriving on eth0 (raw table)',
    focus: 'Pods working|work by IP',
    spec: 'pods',
    cause:
      /selftest-node-1 .*iptables raw PREROUTING on selftest-node-1: -A PREROUTING -s 10\.244\.0\.0\/16 -i eth0 -j DROP/,
    wrongCause: /CoreDNS/,
    inject: () =>
      inNode(1, 'iptables', '-t', 'raw', '-A', 'PREROUTING', '-s', '10.244.0.0/16', '-i', 'eth0', '-j', 'DROP').then(
        () => undefined,
      ),
    undo: () =>
      inNode(1, 'iptables', '-t', 'raw', '-D', 'PREROUTING', '-s', '10.244.0.0/16', '-i', 'eth0', '-j', 'DROP').then(
        () => undefined,
      ),
  },
  {
    name: 'br_netfilter off on both nodes (bridge-nf-call-iptables 0)',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /not through the ClusterIP: net\.bridge\.bridge-nf-call-iptables = 0 on selftest-node-/,
    wrongCause: /CoreDNS/,
    inject: async () => {
      for (const i of [1, 2]) await inNode(i, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0');
    },
    undo: async () => {
      for (const i of [1, 2]) await inNode(i, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1');
    },
  },
  // The control plane: the spec fails before its first check; the verdict names the part, in one line.
  {
    name: 'kube-controller-manager stopped',
    focus: 'work by IP',
    spec: 'clusterip',
    cause:
      /\]: kube-controller-manager('s serviceaccount controller)? is not doing its work: namespace clusterip-\S+ has had no ServiceAccount "default"/,
    wrongCause: /does not exist/,
    oneLine: true,
    inject: () => stopDaemons(daemons('kube-controller-manager')),
    undo: () => restart('kube-controller-manager'),
  },
  {
    name: 'kube-scheduler stopped',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /no scheduler is placing pods/,
    oneLine: true,
    inject: () => stopDaemons(daemons('kube-scheduler')),
    undo: () => restart('kube-scheduler'),
  },
  {
    name: 'admission policy refuses the pods (ValidatingAdmissionPolicy: memory limits required)',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /admission: ValidatingAdmissionPolicy svc-selftest-require-limits refuses the pods/,
    oneLine: true,
    inject: () =>
      kube()
        .apply(...LIMITS_POLICY)
        .then(() => undefined),
    undo: async () => {
      for (const o of [...LIMITS_POLICY].reverse()) await kube().deleteIfPresent(o);
    },
  },
  {
    name: "kube-controller-manager's endpointslice controller disabled (--controllers)",
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /Ready but it has no EndpointSlice: other controllers of kube-controller-manager did their work/,
    inject: () => restartControllerManager((c) => `${c},-endpointslice-controller`),
    undo: () => restartControllerManager((c) => c.replace(',-endpointslice-controller', '')),
  },
  {
    name: "kube-controller-manager's endpointslice-mirroring-controller disabled (--controllers)",
    focus: 'Service APIs',
    spec: 'api-objects',
    cause:
      /has custom Endpoints \(.*\) but no EndpointSlice: kube-controller-manager's endpointslice-mirroring-controller did not mirror them/,
    inject: () => restartControllerManager((c) => `${c},-endpointslice-mirroring-controller`),
    undo: () => restartControllerManager((c) => c.replace(',-endpointslice-mirroring-controller', '')),
  },
  // kube-proxy's own bugs: the verdict must blame kube-proxy's rules for the feature, on the node.
  {
    name: 'kube-proxy mutant: sessionAffinity ignored',
    focus: 'session affinity',
    spec: 'session-affinity',
    cause:
      /kube-proxy's rules on selftest-node-\d \(\w+\) ignore sessionAffinity ClientIP of affinity-\S+\/hostnames-sticky/,
    wrongCause: /look right/,
    ...mutant('session-affinity-ignored'),
  },
  {
    name: 'kube-proxy mutant: externalTrafficPolicy Local ignored',
    focus: 'externalTrafficPolicy',
    spec: 'external-traffic-policy',
    cause: /kube-proxy's rules on selftest-node-\d \(\w+\) ignore externalTrafficPolicy Local of etp-\S+\/hostnames/,
    wrongCause: /look right/,
    ...mutant('external-traffic-policy-local-ignored'),
  },
  {
    name: 'kube-proxy mutant: UDP conntrack cleanup removed',
    focus: 'Beyond the guide: conntrack',
    spec: 'conntrack',
    cause: /kube-proxy did not clear the conntrack entries of conntrack-\S+ that still send UDP flows/,
    wrongCause: /look right/,
    ...mutant('udp-conntrack-cleanup-removed'),
  },
  {
    name: 'kube-proxy mutant: topology hints ignored',
    focus: 'traffic distribution',
    spec: 'traffic-distribution',
    cause: /kube-proxy's rules on selftest-node-\d ignore the topology hints of traffic-\S+\/(prefer-|topology-)/,
    wrongCause: /look right/,
    ...mutant('topology-hints-ignored'),
  },
  {
    name: 'kube-proxy mutant: no fallback to terminating endpoints',
    focus: 'not ready or are terminating',
    spec: 'endpoint-readiness',
    cause:
      /kube-proxy on selftest-node-\d(, selftest-node-\d)? sends readiness-\S+\/fallback nowhere while its only pods are terminating and still serving/,
    wrongCause: /look right/,
    ...mutant('terminating-fallback-removed'),
  },
  {
    // Rules flushed on a node come back only through kube-proxy's canary monitor (iptables mode).
    name: 'kube-proxy mutant: iptables canary monitor never started',
    focus: 'recovery',
    spec: 'recovery.disruptive',
    cause: /kube-proxy's rules on selftest-node-\d do not match the endpoints of recovery-\S+/,
    wrongCause: /look right/,
    ...mutant('iptables-canary-ignored'),
  },
  // A filter that drops only DNS over UDP: TCP to CoreDNS passes, so CoreDNS must not be blamed.
  {
    name: "iptables drops DNS over UDP on CoreDNS's node (FORWARD -p udp --dport 53 -j DROP)",
    focus: 'DNS name',
    spec: 'dns',
    cause:
      /selftest-node-\d drops DNS queries over UDP .*iptables filter FORWARD on selftest-node-\d: -A FORWARD -p udp -m udp --dport 53 -j DROP/,
    wrongCause: /\]: CoreDNS/,
    inject: async () => {
      dnsFilterNode = await corednsNode();
      await inNode(dnsFilterNode, 'iptables', '-I', ...UDP_DNS_DROP);
    },
    undo: () => inNode(dnsFilterNode, 'iptables', '-D', ...UDP_DNS_DROP).then(() => undefined),
  },
  {
    name: "a host nftables table drops DNS over UDP on CoreDNS's node",
    focus: 'DNS name',
    spec: 'dns',
    cause:
      /selftest-node-\d drops DNS queries over UDP .*nft inet host_dns_filter chain forward on selftest-node-\d: udp dport 53 drop/,
    wrongCause: /\]: CoreDNS/,
    inject: async () => {
      dnsFilterNode = await corednsNode();
      await nftInNode(dnsFilterNode, NFT_DNS_DROP);
    },
    undo: () => inNode(dnsFilterNode, 'nft', 'delete', 'table', 'inet', 'host_dns_filter').then(() => undefined),
  },
  {
    name: 'CoreDNS serves another cluster domain (cluster.example)',
    focus: 'DNS name',
    spec: 'dns',
    cause: /CoreDNS serves cluster\.example, pods ask for cluster\.local/,
    inject: () => setCorefile((c) => c.replaceAll('cluster.local', 'cluster.example')),
    undo: () => setCorefile((c) => c.replaceAll('cluster.example', 'cluster.local')),
  },
  {
    // The kubernetes plugin keeps cluster.local only: PTR queries of cluster addresses reach a block with no plugin to answer them.
    name: "CoreDNS's kubernetes plugin loses its reverse zones (no in-addr.arpa ip6.arpa)",
    focus: 'DNS name',
    spec: 'dns',
    cause:
      /CoreDNS's kubernetes plugin does not serve in-addr\.arpa \(its zones in the Corefile, ConfigMap kube-system\/coredns: cluster\.local\), so PTR queries of ClusterIPs and pod IPs get no record from it/,
    wrongCause: /look right|drops DNS|CoreDNS (has no ready pods|takes connections|does not take)/,
    inject: () => setCorefile((c) => c.replace(REVERSE_ZONES, 'kubernetes cluster.local {')),
    undo: () => setCorefile((c) => c.replace('kubernetes cluster.local {', REVERSE_ZONES)),
  },
  {
    name: 'kube-proxy hung on node-2 (SIGSTOP: the process stays, nothing answers)',
    focus: 'work by IP|kube-proxy working',
    spec: 'clusterip',
    cause: /kube-proxy on selftest-node-2 is hung, not gone: process \d+ is stopped \(state T/,
    wrongCause: /kube-proxy is not running/,
    inject: () => {
      process.kill(proxyPid(2), 'SIGSTOP');
      // Bounded: the process goes on by itself after 10 minutes whatever happens here.
      hungTimer = setTimeout(() => process.kill(proxyPid(2), 'SIGCONT'), 600_000);
      return Promise.resolve();
    },
    undo: () => {
      clearTimeout(hungTimer);
      process.kill(proxyPid(2), 'SIGCONT');
      return Promise.resolve();
    },
  },
  // A host rule accepting conntrack-INVALID packets ahead of kube-proxy's drop (KUBE-FORWARD, jumped to from FORWARD):
  // an out-of-window segment from a backend reaches the client un-NATed and resets the connection.
  {
    name: "conntrack INVALID accepted on every node ahead of kube-proxy's drop (FORWARD 1 --ctstate INVALID -j ACCEPT)",
    focus: 'Beyond the guide: conntrack .*out-of-window',
    spec: 'conntrack',
    cause:
      /selftest-node-1, selftest-node-2 accept conntrack-INVALID packets before kube-proxy's drop: iptables filter FORWARD on selftest-node-1: -A FORWARD -m conntrack --ctstate INVALID -j ACCEPT \(ahead of kube-proxy's -A KUBE-FORWARD -m conntrack --ctstate INVALID/,
    wrongCause: /look right|kube-proxy('s rules)? on|CoreDNS/,
    inject: async () => {
      for (const i of [1, 2]) await inNode(i, 'iptables', '-I', 'FORWARD', '1', ...INVALID_ACCEPT);
    },
    undo: async () => {
      for (const i of [1, 2]) await inNode(i, 'iptables', '-D', 'FORWARD', ...INVALID_ACCEPT);
    },
  },
  // A cause that cannot clear by itself fails the spec at once, with the cause as its first line.
  {
    name: 'every node tainted NoSchedule (fails fast)',
    focus: 'work by IP',
    spec: 'clusterip',
    cause:
      /setup failed before any check: .*untolerated taint svc-selftest\/blocked:NoSchedule on selftest-node-1, selftest-node-2/,
    oneLine: true,
    maxSeconds: 20, // the pods' budget here is 40 s
    inject: () => taintNodes(true),
    undo: () => taintNodes(false),
  },
  // LoadBalancer faults (MetalLB): the verdict names the layer, no address or no announcement.
  {
    name: "MetalLB's speakers stopped (the address is assigned, nobody announces it)",
    focus: 'Beyond the guide: LoadBalancer gives the Service an address',
    spec: 'load-balancer',
    cause:
      /has the address [0-9.]+, but no node announces it: nobody answers ARP\/NDP for it on the nodes' segment \(speakers: selftest-node-1: no speaker; selftest-node-2: no speaker\)/,
    wrongCause: /CoreDNS|kube-proxy('s rules)? on|has no ingress address/,
    inject: () => speakersOnNoNode(true),
    undo: () => speakersOnNoNode(false),
  },
  {
    name: "MetalLB's address pool exhausted (one address, held by another Service)",
    focus: 'Beyond the guide: LoadBalancer gives the Service an address',
    spec: 'load-balancer',
    cause: /has no ingress address: .*no available IPs/,
    wrongCause: /CoreDNS|kube-proxy('s rules)? on|no node announces it/,
    inject: () => poolExhausted(true),
    undo: () => poolExhausted(false),
  },
  // The second address family, on a dual-stack cluster (--ip-family dual): the path matrix asks IPv4 pod IPs, which pass.
  {
    name: "dual-stack: Docker's ip6tables FORWARD policy DROP on node-2 (IPv4 forwarded, IPv6 not)",
    ipFamily: 'dual',
    focus: 'IPv6 and dual-stack',
    spec: 'ip-families',
    cause:
      /selftest-node-2 drops the cluster's IPv6 traffic: ip6tables filter FORWARD on selftest-node-2: policy drop \(only IPv6 is filtered there/,
    wrongCause: /look right|CoreDNS|kube-proxy('s rules)? on|iptables filter/,
    inject: () => inNode(2, 'ip6tables', '-P', 'FORWARD', 'DROP').then(() => undefined),
    undo: () => inNode(2, 'ip6tables', '-P', 'FORWARD', 'ACCEPT').then(() => undefined),
  },
  // Overlay faults, on a flannel cluster (--cni flannel): each verdict names the node and the setting.
  {
    name: 'flannel: VXLAN (UDP 8472) dropped on node-2 by a host firewall',
    cni: 'flannel',
    focus: 'work by IP',
    spec: 'clusterip',
    cause:
      /iptables filter INPUT on selftest-node-2: -A INPUT -p udp -m udp --dport 8472 -j DROP \(drops the overlay's VXLAN traffic/,
    wrongCause: /CoreDNS|kube-proxy('s rules)? on|flanneld is not running/,
    inject: () => inNode(2, 'iptables', '-I', ...VXLAN_DROP).then(() => undefined),
    undo: () => inNode(2, 'iptables', '-D', ...VXLAN_DROP).then(() => undefined),
  },
  {
    name: 'flannel: flanneld stopped on node-2 after its pods restart (no flannel.1, no route to the other subnet)',
    cni: 'flannel',
    focus: 'work by IP',
    spec: 'clusterip',
    cause: /flanneld is not running on selftest-node-2, there is no VXLAN device \(flannel\.1\) on selftest-node-2/,
    wrongCause: /CoreDNS|kube-proxy('s rules)? on/,
    inject: flannelGoneOnNode2,
    undo: flannelBackOnNode2,
  },
  {
    name: 'flannel: pod MTU larger than the overlay allows on node-2 (its eth0 shrank to 1400 under flannel.1 1450)',
    cni: 'flannel',
    focus: 'Beyond the guide: UDP',
    spec: 'udp',
    cause:
      /MTU 1450 on selftest-node-2 \(.*\) is larger than the overlay allows: eth0 \(under flannel\.1\) has MTU 1400, so VXLAN carries 1350-byte packets at most/,
    wrongCause: /CoreDNS|kube-proxy('s rules)? on|flanneld is not running/,
    inject: () => shrinkNode2Mtu(1400),
    undo: () => shrinkNode2Mtu(1500),
  },
];

/**
 * Waits until CoreDNS answers for a Service made now, so that no run inherits the last fault's damage.
 * A fault that leaves a node without kube-proxy's rules (the canary mutant) cuts CoreDNS off the API
 * server behind the kubernetes Service; once the rules are back it lists again after its backoff, and
 * until then it answers NXDOMAIN for every Service made since.
 */
async function dnsFollowsTheApi(): Promise<void> {
  const name = `selftest-dns-${Date.now().toString(36)}`;
  const service = await kube().core.createNamespacedService({
    namespace: 'default',
    body: { metadata: { name }, spec: { ports: [{ port: 80 }] } },
  });
  const address = service.spec!.clusterIP!;
  const fqdn = `${name}.default.svc.${settings.network.clusterDomain}`;
  const started = Date.now();
  try {
    await waitFor(
      `CoreDNS answering ${fqdn} with ${address} (its watch of the API is live again)`,
      180_000,
      async () => {
        const r = await run(
          'ip',
          [
            'netns',
            'exec',
            `svc-${NAME}-n1`,
            hostProbe(settings),
            'lookup',
            fqdn,
            '--server',
            settings.network.dnsIP,
            '--timeout=2000ms',
          ],
          { allowFailure: true },
        );
        const answer = parseProbeOutput<LookupResult>(r.stdout, 'lookup', 'on node 1', r.stderr);
        return { done: answer.addrs?.includes(address) ?? false, seen: answer.outcome };
      },
    );
    const waited = (Date.now() - started) / 1000;
    if (waited > 5) console.log(`  CoreDNS answered for a new Service after ${waited.toFixed(1)} s`);
  } finally {
    await kube().core.deleteNamespacedService({ namespace: 'default', name });
  }
}

interface Outcome {
  fault: string;
  detected: boolean;
  rightCause: boolean;
  greenAfterUndo: boolean;
  failures: string[];
}

async function runSpecs(
  focus: string,
  tag: string,
  patches?: WorkloadPatch[],
  cni: CniChoice = 'bridge',
  ipFamily: IpFamilyChoice = 'ipv4',
) {
  const out = join(resultsDir, 'selftest', tag);
  mkdirSync(out, { recursive: true });
  const patchFile = patches ? join(out, 'workload-patch.json') : undefined;
  if (patchFile) writeFileSync(patchFile, JSON.stringify(patches, null, 2));
  const args = ['run', '--nodes', '2', '--zones', '2', '--cni', cni, '--ip-family', ipFamily, '--focus', focus];
  const r = await run(process.execPath, [cli, ...args], {
    env: childEnv({
      SVC_WORKLOAD_PATCH: patchFile,
      SVC_CLUSTER_NAME: NAME,
      SVC_KEEP_CLUSTER: '1',
      SVC_RESULTS: out,
      SVC_TIMEOUT_SERVICE_SYNC: '15000',
      SVC_TIMEOUT_PODS_READY: '40000',
    }),
    allowFailure: true,
    timeoutMs: 600_000,
  });
  const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
    testResults: {
      name: string;
      status: string;
      message?: string;
      assertionResults: { status: string; title: string; failureMessages: string[] }[];
    }[];
  };
  const failed = report.testResults.filter((f) => f.status === 'failed');
  // Verdicts: appended to failed checks' messages, and at the top of each failed spec's diagnostics file.
  const diagnostics = join(out, 'diagnostics');
  const files = existsSync(diagnostics)
    ? readdirSync(diagnostics).map((f) => readFileSync(join(diagnostics, f), 'utf8').split('\n')[2] ?? '')
    : [];
  const messages = [
    ...failed.flatMap((f) => [f.message ?? '', ...f.assertionResults.flatMap((a) => a.failureMessages)]),
    ...files,
  ].filter(Boolean);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    rows: { file: string; durationMs: number; failures?: { message: string }[] }[];
  };
  // A setup failure's own first line (what the spec's beforeAll threw) is in the summary's rows.
  messages.push(...summary.rows.flatMap((row) => (row.failures ?? []).map((f) => f.message)));
  const failures = report.testResults.flatMap((f) =>
    f.assertionResults
      .filter((a) => a.status === 'failed')
      .map((a) => `${f.name.split('/').pop()} › ${a.title}: ${(a.failureMessages[0] ?? '').split('\n')[0]}`),
  );
  return {
    exitCode: r.exitCode,
    /** Each failed check, with the first line of its message. */
    failures:
      r.exitCode !== 0 && !failures.length
        ? [(r.stdout + r.stderr).trim().split('\n').at(-1) ?? `exit ${r.exitCode}`]
        : failures,
    failedSpecs: failed.map((f) => f.name.split('/').pop()!.replace('.spec.ts', '')),
    messages,
    /** Each spec's own time, by spec name. */
    specSeconds: Object.fromEntries(
      summary.rows.map((row) => [row.file.split('/').pop()!.replace('.spec.ts', ''), row.durationMs / 1000]),
    ),
  };
}

const outcomes: Outcome[] = [];
// npm run selftest -- [REGEX] [--keep]: only the faults whose name matches; --keep leaves the cluster up for the next try.
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const pattern = args.find((a) => !a.startsWith('--'));
const only = pattern ? new RegExp(pattern, 'i') : undefined;
try {
  // Two zones, one node each: the traffic-distribution checks run, and their mutant has something to break.
  // The cluster of the fault's CNI: bridge first, then the overlay faults' flannel one in its place.
  let upWith: string | undefined;
  for (const [i, fault] of FAULTS.entries()) {
    if (only && !only.test(fault.name)) continue;
    const cni = fault.cni ?? 'bridge';
    const ipFamily = fault.ipFamily ?? 'ipv4';
    if (`${cni} ${ipFamily}` !== upWith)
      await new LocalProvider(settings).up({ name: NAME, nodes: 2, zones: 2, cni, ipFamily });
    upWith = `${cni} ${ipFamily}`;
    await dnsFollowsTheApi().catch((e: Error) => console.log(`  before the fault: ${e.message.slice(0, 300)}`));
    await fault.inject?.();
    let broken;
    try {
      broken = await runSpecs(fault.focus, `${i + 1}-fault`, fault.patches, cni, ipFamily);
    } finally {
      await fault.undo?.();
    }
    const seconds = broken.specSeconds[fault.spec] ?? Infinity;
    const slow = fault.maxSeconds !== undefined && seconds > fault.maxSeconds;
    if (slow)
      console.log(`  ${fault.spec} took ${seconds.toFixed(1)} s to fail, more than the ${fault.maxSeconds} s it may`);
    // The undo is over once DNS follows the API again; if it does not, the green run says what is left.
    await dnsFollowsTheApi().catch((e: Error) => console.log(`  after the undo: ${e.message.slice(0, 300)}`));
    const green = await runSpecs(fault.focus, `${i + 1}-undone`, undefined, cni, ipFamily);
    // Not green after the undo: the suite failed a healthy cluster, so say which checks and why.
    if (green.exitCode !== 0)
      for (const line of green.failures.slice(0, 5)) console.log(`  after the undo: ${line.slice(0, 400)}`);
    const detected = broken.failedSpecs.includes(fault.spec);
    const verdicts = broken.messages.flatMap((m) => m.split('\n').filter((l) => l.includes('verdict [')));
    const wrong = fault.wrongCause && verdicts.find((v) => fault.wrongCause!.test(v));
    const raw = fault.oneLine && broken.messages.find((m) => /HTTP-Code|Headers:/.test(m));
    const rightCause = broken.messages.some((m) => fault.cause.test(m)) && !wrong && !raw && !slow;
    if (wrong) console.log(`  a verdict blames what the fault did not touch: ${wrong.slice(0, 300)}`);
    if (raw) console.log(`  a setup failure is not one line: ${raw.slice(0, 300)}`);
    outcomes.push({
      fault: fault.name,
      detected,
      rightCause,
      greenAfterUndo: green.exitCode === 0,
      failures: broken.messages
        .map((m) =>
          m
            .split('\n')
            .filter((l) => /verdict|Error/.test(l))
            .join(' | ')
            .slice(0, 500),
        )
        .filter(Boolean)
        .slice(0, 3),
    });
    console.log(
      `${detected ? '✓' : '✗'} detected  ${rightCause ? '✓' : '✗'} cause  ${green.exitCode === 0 ? '✓' : '✗'} green after undo  — ${fault.name} (failed: ${broken.failedSpecs.join(', ') || 'nothing'})`,
    );
  }
} finally {
  clearInterval(dnatLoop);
  clearInterval(unreadyLoop);
  if (!keep) await new LocalProvider(settings).down(NAME);
}

const count = (k: keyof Outcome) => outcomes.filter((o) => o[k]).length;
const summary = {
  faults: outcomes.length,
  detected: count('detected'),
  rightCause: count('rightCause'),
  greenAfterUndo: count('greenAfterUndo'),
  outcomes,
};
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'selftest.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `${summary.detected}/${summary.faults} detected, ${summary.rightCause}/${summary.faults} with the right cause, ${summary.greenAfterUndo}/${summary.faults} green after undo`,
);
process.exitCode =
  summary.detected === summary.faults &&
  summary.rightCause === summary.faults &&
  summary.greenAfterUndo === summary.faults
    ? 0
    : 1;
