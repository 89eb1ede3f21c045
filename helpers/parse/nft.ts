// Reads kube-proxy's nftables-mode view of one Service port from `nft -j list ruleset`:
// the service-ips map entry → the service-… chain → its numgen vmap → the endpoint-… chains.
export interface NftServiceRules {
  clusterIP?: string;
  port?: number;
  protocol?: string;
  serviceChain: string; // e.g. "service-PM2QQW4D-default/hostnames/tcp/default"
  mapEntry: boolean; // the service-ips map has clusterIP . proto . port : goto serviceChain
  endpoints: {
    chain: string;
    destination: string; // "10.244.1.3:9376" from the dnat statement
    masqueradesSelf: boolean; // the endpoint chain marks traffic from its own pod IP for masquerade
  }[];
  numgenMod?: number; // the `numgen random mod N` of the service chain
  affinitySeconds?: number; // sessionAffinity ClientIP: the timeout of the endpoints' affinity-… sets
}

export interface NftServicePortRef {
  namespace: string;
  name: string;
  portName?: string; // absent: the Service's only (or first) port; '' : the unnamed port
  protocol?: string; // tcp, udp or sctp, any case; absent: any
  family?: 'ip' | 'ip6'; // the table's family (a dual-stack Service has a chain in each); absent: the first found
}

type Json = Record<string, unknown>;
type Statements = unknown[]; // one rule's `expr`: {match}, {jump}, {dnat}, {vmap}, …

const KUBE_PROXY_TABLE = 'kube-proxy';
// service-HASH-namespace/name/protocol/portName, as kube-proxy's servicePortChainNameBase writes it.
const SERVICE_CHAIN = /^service-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/([^/]+)\/([^/]*)$/;

// Why: tells which nftables tables exist, e.g. whether kube-proxy's `ip kube-proxy` is there at all.
export function nftTables(ruleset: unknown): { family: string; name: string }[] {
  return objectsOfKind(ruleset, 'table').map((table) => ({ family: String(table.family), name: String(table.name) }));
}

// Why: says whether kube-proxy (nftables mode) programmed a Service port: map entry, chain, endpoints.
export function kubeProxyNftRules(ruleset: unknown, service: NftServicePortRef): NftServiceRules | undefined {
  const chain = objectsOfKind(ruleset, 'chain').find(
    (chain) =>
      chain.table === KUBE_PROXY_TABLE &&
      (!service.family || chain.family === service.family) &&
      matchesServiceChain(String(chain.name), service),
  );
  if (!chain) return undefined;
  const family = String(chain.family);
  const serviceChain = String(chain.name);
  const rules = new Map<string, Statements[]>(); // chain name → its rules
  for (const rule of objectsOfKind(ruleset, 'rule')) {
    if (rule.family !== family || rule.table !== KUBE_PROXY_TABLE || !Array.isArray(rule.expr)) continue;
    const chainRules = rules.get(String(rule.chain));
    if (chainRules) chainRules.push(rule.expr);
    else rules.set(String(rule.chain), [rule.expr]);
  }
  const entry = serviceIpsEntry(ruleset, family, serviceChain);
  const statements = (rules.get(serviceChain) ?? []).flat();
  const numgen = statements.map((statement) => numgenVmap(statement)).find((vmap) => vmap !== undefined);
  return {
    clusterIP:
      entry?.clusterIP ?? statements.map((statement) => matchedAddress(statement, 'daddr', '==')).find(Boolean),
    port: entry?.port,
    protocol: entry?.protocol ?? SERVICE_CHAIN.exec(serviceChain)?.[3],
    serviceChain,
    mapEntry: entry !== undefined,
    endpoints: (numgen?.targets ?? []).map((target) => endpointOf(target, rules.get(target) ?? [], family)),
    numgenMod: numgen?.mod,
    affinitySeconds: affinityTimeout(ruleset, family, serviceChain),
  };
}

// With session affinity every endpoint has a set `affinity-HASH-<ns/name/proto/port>__<ip>/<port>` (timeout N).
function affinityTimeout(ruleset: unknown, family: string, serviceChain: string): number | undefined {
  const service = serviceChain.replace(/^service-[A-Z0-9]{8}-/, '');
  const set = objectsOfKind(ruleset, 'set').find(
    (set) =>
      set.family === family &&
      set.table === KUBE_PROXY_TABLE &&
      /^affinity-[A-Z0-9]{8}-/.test(String(set.name)) &&
      String(set.name)
        .replace(/^affinity-[A-Z0-9]{8}-/, '')
        .startsWith(`${service}__`),
  );
  return typeof set?.timeout === 'number' ? set.timeout : undefined;
}

export interface NftFrontends {
  nodePorts: { port: number; protocol?: string; chain: string }[]; // service-nodeports elements → external-… chain
  externalIPs: { ip: string; port?: number; chain: string }[]; // service-ips elements that go to the external-… chain
  /** The same elements: nftables mode keeps externalIPs and LoadBalancer IPs in one map, told apart by nothing. */
  loadBalancerIPs: { ip: string; port?: number; chain: string }[];
  masqueradesExternal: boolean; // the external chain marks every packet for masquerade (externalTrafficPolicy: Cluster)
  externalChain?: string; // the external-… chain outside traffic goes to
  dropsWithoutLocalEndpoints: boolean; // no-endpoint-nodeports maps its NodePort to drop (Local, no endpoint on this node)
}

// external-HASH-namespace/name/protocol/portName: the chain NodePort and externalIP traffic goes to.
const EXTERNAL_CHAIN = /^external-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/([^/]+)\/([^/]*)$/;

// Why: says how a Service port is reached from outside — NodePort and externalIPs — and
// whether that path masquerades (Cluster) or keeps the client's address (Local).
export function kubeProxyNftFrontends(ruleset: unknown, service: NftServicePortRef): NftFrontends {
  const mine = (target: string | undefined) =>
    !!target && matchesServiceChain(target.replace(/^external-/, 'service-'), service) && EXTERNAL_CHAIN.test(target);
  const nodePorts: NftFrontends['nodePorts'] = [];
  const externalIPs: NftFrontends['externalIPs'] = [];
  for (const map of objectsOfKind(ruleset, 'map')) {
    if (map.table !== KUBE_PROXY_TABLE || !Array.isArray(map.elem)) continue;
    for (const element of map.elem) {
      if (!Array.isArray(element) || !mine(verdictTarget(element[1]))) continue;
      const chain = verdictTarget(element[1])!;
      const key = unwrapElem(element[0]);
      const parts = isObject(key) && Array.isArray(key.concat) ? key.concat : [];
      if (map.name === 'service-nodeports' && typeof parts[1] === 'number')
        nodePorts.push({ port: parts[1], protocol: stringOrUndefined(parts[0]), chain });
      if (map.name === 'service-ips' && typeof parts[0] === 'string')
        externalIPs.push({ ip: parts[0], port: typeof parts[2] === 'number' ? parts[2] : undefined, chain });
    }
  }
  const external = nodePorts[0]?.chain ?? externalIPs[0]?.chain;
  // Cluster: a rule that is nothing but `jump mark-for-masquerade`.
  const masqueradesExternal = objectsOfKind(ruleset, 'rule').some(
    (rule) =>
      rule.table === KUBE_PROXY_TABLE &&
      rule.chain === external &&
      Array.isArray(rule.expr) &&
      rule.expr.length === 1 &&
      verdictTarget(rule.expr[0]) === 'mark-for-masquerade',
  );
  // externalTrafficPolicy: Local on a node without a local endpoint: `proto . nodePort : drop`.
  const dropsWithoutLocalEndpoints = objectsOfKind(ruleset, 'map').some(
    (map) =>
      map.table === KUBE_PROXY_TABLE &&
      map.name === 'no-endpoint-nodeports' &&
      Array.isArray(map.elem) &&
      map.elem.some((element) => {
        if (!Array.isArray(element) || !isObject(element[1]) || !('drop' in element[1])) return false;
        const key = unwrapElem(element[0]);
        const port = isObject(key) && Array.isArray(key.concat) ? key.concat[1] : undefined;
        return nodePorts.some((p) => p.port === port);
      }),
  );
  return {
    nodePorts,
    externalIPs,
    loadBalancerIPs: externalIPs,
    masqueradesExternal,
    externalChain: external,
    dropsWithoutLocalEndpoints,
  };
}

// Every `{kind: {...}}` object of the ruleset's `nftables` array, unwrapped; [] when absent.
function objectsOfKind(ruleset: unknown, kind: string): Json[] {
  const list = isObject(ruleset) && Array.isArray(ruleset.nftables) ? ruleset.nftables : [];
  return list.filter((item): item is Json => isObject(item) && isObject(item[kind])).map((item) => item[kind] as Json);
}

function matchesServiceChain(chain: string, service: NftServicePortRef): boolean {
  const [, namespace, name, protocol, portName] = SERVICE_CHAIN.exec(chain) ?? [];
  return (
    namespace === service.namespace &&
    name === service.name &&
    (service.protocol === undefined || protocol === service.protocol.toLowerCase()) &&
    (service.portName === undefined || portName === service.portName)
  );
}

// The service-ips element whose verdict is `goto serviceChain`: its key is clusterIP . proto . port.
function serviceIpsEntry(ruleset: unknown, family: string, serviceChain: string) {
  const map = objectsOfKind(ruleset, 'map').find(
    (map) => map.family === family && map.table === KUBE_PROXY_TABLE && map.name === 'service-ips',
  );
  for (const element of Array.isArray(map?.elem) ? map.elem : []) {
    if (!Array.isArray(element) || verdictTarget(element[1]) !== serviceChain) continue;
    const key = unwrapElem(element[0]);
    const [clusterIP, protocol, port] = isObject(key) && Array.isArray(key.concat) ? key.concat : [];
    return {
      clusterIP: stringOrUndefined(clusterIP),
      protocol: stringOrUndefined(protocol),
      port: typeof port === 'number' ? port : undefined,
    };
  }
  return undefined;
}

// `numgen random mod N vmap { 0 : goto A, 1 : goto B }` → { mod: N, targets: [A, B] } in key order.
function numgenVmap(statement: unknown): { mod?: number; targets: string[] } | undefined {
  const vmap = isObject(statement) ? statement.vmap : undefined;
  if (!isObject(vmap) || !isObject(vmap.key) || !isObject(vmap.key.numgen)) return undefined;
  const mod = vmap.key.numgen.mod;
  const set = isObject(vmap.data) && Array.isArray(vmap.data.set) ? vmap.data.set : [];
  const pairs = set
    .filter(Array.isArray)
    .map(([key, verdict]) => [Number(unwrapElem(key)), verdictTarget(verdict)] as const);
  const targets = pairs.sort((a, b) => a[0] - b[0]).flatMap(([, target]) => (target ? [target] : []));
  return { mod: typeof mod === 'number' ? mod : undefined, targets };
}

// An endpoint chain: `ip saddr <pod> jump mark-for-masquerade` and `meta l4proto tcp dnat to <pod>:<port>`.
function endpointOf(chain: string, rules: Statements[], family: string): NftServiceRules['endpoints'][number] {
  const dnat = rules
    .flat()
    .map((statement) => (isObject(statement) ? statement.dnat : undefined))
    .find(isObject);
  const address = stringOrUndefined(dnat?.addr) ?? '';
  const port = typeof dnat?.port === 'number' ? dnat.port : undefined;
  const host = family === 'ip6' || address.includes(':') ? `[${address}]` : address;
  const marksOwnPod = (rule: Statements) =>
    rule.some((statement) => matchedAddress(statement, 'saddr', '==') === address) &&
    rule.some((statement) => isObject(statement) && verdictTarget(statement) === 'mark-for-masquerade');
  return {
    chain,
    destination: port === undefined ? address : `${host}:${port}`,
    masqueradesSelf: address !== '' && rules.some(marksOwnPod),
  };
}

// `ip saddr == 10.244.1.3` (or ip6) as a match statement → "10.244.1.3"; otherwise undefined.
function matchedAddress(statement: unknown, field: 'saddr' | 'daddr', op: string): string | undefined {
  const match = isObject(statement) ? statement.match : undefined;
  if (!isObject(match) || match.op !== op || !isObject(match.left) || !isObject(match.left.payload)) return undefined;
  const payload = match.left.payload;
  return payload.field === field && (payload.protocol === 'ip' || payload.protocol === 'ip6')
    ? stringOrUndefined(match.right)
    : undefined;
}

// `{goto: {target}}` or `{jump: {target}}` → target.
function verdictTarget(verdict: unknown): string | undefined {
  if (!isObject(verdict)) return undefined;
  const jump = isObject(verdict.goto) ? verdict.goto : isObject(verdict.jump) ? verdict.jump : undefined;
  return stringOrUndefined(jump?.target);
}

// Set elements with a comment or timeout are wrapped as `{elem: {val: …}}`.
function unwrapElem(value: unknown): unknown {
  return isObject(value) && isObject(value.elem) ? value.elem.val : value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
