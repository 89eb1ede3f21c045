// specs/kube-proxy-rules.spec.ts — CNI project: the guide's hostnames, with this project's assertion on the nodes
// Proves: on every node, kube-proxy's rules for the guide's hostnames Service send to exactly its ready
// backends, and nothing else in the node's rules claims the ClusterIP.
// A failure usually means: kube-proxy did not sync, or the CNI installs rules of its own for Service addresses.
import {
  because,
  beforeAll,
  deployHostnames,
  describe,
  expect,
  hostPort,
  it,
  programmedDestinations,
  runOnNode,
  section,
  skipWithoutNodeAccess,
  useCluster,
  useDiagnosis,
  useNamespace,
  type Hostnames,
} from 'svc-conformance';

const rules = section('CNI project: node rules for Services', {
  next: "read the node's rules (iptables-save, nft list ruleset) for the ClusterIP: which chain besides kube-proxy's claims it?",
});

describe(rules.title, () => {
  const cluster = useCluster();
  const ns = useNamespace('cni-rules');
  useDiagnosis(ns, 'hostnames');
  let app: Hostnames;

  beforeAll(async () => {
    app = await deployHostnames(cluster, ns);
  });

  for (const node of cluster.nodes) {
    it(`sends the hostnames ClusterIP to exactly its ready backends on ${node.name}`, async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const port = app.service.spec!.ports![0];
      const ref = {
        namespace: ns,
        name: app.name,
        portName: port.name,
        protocol: port.protocol,
        clusterIP: app.clusterIP,
        port: port.port,
      };
      const sent = await programmedDestinations(cluster, node, ref);
      if (!sent) skip(`no rule parser for kube-proxy mode ${cluster.capabilities.proxyMode}`);
      const ready = (await app.backendsNow()).map((p) => hostPort(p.ip, port.targetPort as number)).sort();
      expect(sent, because(rules, `kube-proxy's destinations on ${node.name}`)).toEqual(ready);
    });

    it(`has no rule but kube-proxy's naming the ClusterIP on ${node.name}`, async ({ skip }) => {
      skipWithoutNodeAccess(cluster, skip);
      const save = cluster.capabilities.ipFamilies[0] === 'IPv6' ? 'ip6tables-save' : 'iptables-save';
      const dump = (await runOnNode(cluster, node, [save])).stdout.split('\n');
      const others = dump.filter((line) => line.includes(app.clusterIP) && !/KUBE-/.test(line));
      expect(
        others,
        because(rules, `rules on ${node.name} that mention ${app.clusterIP} outside KUBE-* chains`),
      ).toEqual([]);
    });
  }
});
