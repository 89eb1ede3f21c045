// What the Service API checks need beyond the guide's workloads (suites/api-objects.spec.ts): a watch
// that records what it saw, agnhost's porter (it answers each HTTP method with the method's name),
// the API server's proxy subresource called with every method, EndpointSlices and Endpoints written
// by hand, and a second ServiceCIDR that no cluster range overlaps.
import { request, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../cluster/cluster.js';
import { waitFor } from '../kube/wait.js';
import { runLabels } from './labels.js';
import { patched, workloadPatches } from './patches.js';
import { RESTRICTED_CONTAINER, RESTRICTED_POD } from './security.js';

/** The ports porter serves (unprivileged: the pods run as nobody) and what each answers. */
export const PORTER_PORTS = [
  { name: 'dest1', port: 8080, body: 'foo' },
  { name: 'dest2', port: 8081, body: 'bar' },
] as const;

/** The methods the proxy subresource must carry (upstream's list). */
export const HTTP_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One event a watch delivered: its type and the object's name, resourceVersion and the object itself. */
export interface Watched<T> {
  type: string;
  name: string;
  object: T;
}

/** A watch started before the changes it is to see; `stop()` ends it and returns what it saw, in order. */
export interface Recorder<T> {
  events: Watched<T>[];
  /** Waits until an event satisfies `match` (what it waits for is named in `what`), and returns it. */
  seen(what: string, match: (e: Watched<T>) => boolean, budgetMs: number): Promise<Watched<T>>;
  stop(): void;
}

/** Watches `path` (e.g. /api/v1/namespaces/NS/services) with the given label selector; resolves once the watch is open. */
export async function recordWatch<T extends k8s.KubernetesObject>(
  cluster: Cluster,
  path: string,
  labelSelector: string,
): Promise<Recorder<T>> {
  const events: Watched<T>[] = [];
  let ended: string | undefined;
  const controller = await new k8s.Watch(cluster.kube.config).watch(
    path,
    { labelSelector },
    (type: string, object: T) => events.push({ type, name: object.metadata?.name ?? '', object }),
    (error: unknown) => void (ended = error ? String(error) : 'closed'),
  );
  return {
    events,
    seen: (what, match, budgetMs) =>
      waitFor(`watch of ${path} delivering ${what}`, budgetMs, () => {
        const hit = events.find(match);
        return Promise.resolve({
          done: !!hit,
          seen: `${events.map((e) => `${e.type} ${e.name}`).join(', ') || 'no event'}${ended ? ` (watch ${ended})` : ''}`,
          value: hit,
        });
      }) as Promise<Watched<T>>,
    stop: () => controller.abort(),
  };
}

/**
 * Upstream's proxy test (proxy.go:100) on porter without --json-response: its ports moved above 1024
 * (the pods run as nobody), its bodies as they are. The first is the pod's first declared port, the one
 * `pods/NAME/proxy` reaches when the URL names none (upstream's 80); the HTML bodies' links are what the
 * API server rewrites under the proxy path. `name`d ports are declared on the container under that name.
 */
export const PROXY_PLAIN_PORTS = [
  { port: 9080, body: '<a href="/rewriteme">test</a>' },
  { port: 1080, body: '<a href="/rewriteme">test</a>' },
  { name: 'plaindest1', port: 9160, body: 'foo' },
  { name: 'plaindest2', port: 9162, body: 'bar' },
] as const;
/** The TLS ports (SERVE_TLS_PORT_N, upstream's 443, 460, 462), served with upstream's localhost certificate. */
export const PROXY_TLS_PORTS = [
  { port: 9443, body: '<a href="/tlsrewriteme">test</a>' },
  { name: 'tlsdest1', port: 9460, body: 'tls baz' },
  { name: 'tlsdest2', port: 9462, body: 'tls qux' },
] as const;
/** Where our agnhost image carries upstream's porter certificate and key (setup/build-images.sh). */
export const PORTER_CERT = { cert: '/localhost.crt', key: '/localhost.key' } as const;

/**
 * agnhost porter in two containers sharing the pod's network: `porter` with --json-response on
 * PORTER_PORTS (`{"Method":"GET","Body":"foo"}` on 8080), and `porter-plain` first (its first port is
 * the pod's) serving PROXY_PLAIN_PORTS and, over TLS, PROXY_TLS_PORTS as bare bodies.
 */
export function porterPod(
  cluster: Cluster,
  namespace: string,
  name: string,
  labels: Record<string, string>,
): k8s.V1Pod {
  const pod: k8s.V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: runLabels(cluster.runId, labels) },
    spec: {
      securityContext: RESTRICTED_POD,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'porter-plain',
          image: cluster.settings.images.agnhost,
          imagePullPolicy: 'IfNotPresent',
          securityContext: RESTRICTED_CONTAINER,
          args: ['porter'],
          env: [
            ...PROXY_PLAIN_PORTS.map((p) => ({ name: `SERVE_PORT_${p.port}`, value: p.body })),
            ...PROXY_TLS_PORTS.map((p) => ({ name: `SERVE_TLS_PORT_${p.port}`, value: p.body })),
            { name: 'CERT_FILE', value: PORTER_CERT.cert },
            { name: 'KEY_FILE', value: PORTER_CERT.key },
          ],
          // Upstream declares 80, dest1, dest2, tlsdest1 and tlsdest2; 1080 and 443 are served, not declared.
          ports: [
            PROXY_PLAIN_PORTS[0],
            PROXY_PLAIN_PORTS[2],
            PROXY_PLAIN_PORTS[3],
            PROXY_TLS_PORTS[1],
            PROXY_TLS_PORTS[2],
          ].map((p) => ({ ...('name' in p ? { name: p.name } : {}), containerPort: p.port, protocol: 'TCP' })),
        },
        {
          name: 'porter',
          image: cluster.settings.images.agnhost,
          imagePullPolicy: 'IfNotPresent',
          securityContext: RESTRICTED_CONTAINER,
          args: ['porter', '--json-response'],
          env: PORTER_PORTS.map((p) => ({ name: `SERVE_PORT_${p.port}`, value: p.body })),
          ports: PORTER_PORTS.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
          readinessProbe: { tcpSocket: { port: PORTER_PORTS[0].port }, periodSeconds: 1, failureThreshold: 2 },
        },
      ],
    },
  };
  return patched(pod, workloadPatches(cluster.settings.run.workloadPatchFile));
}

/** What one request through the proxy subresource gave: the status, and porter's JSON where it sent one. */
export interface ProxyAnswer {
  method: HttpMethod;
  url: string;
  status: number;
  json?: { Method?: string; Body?: string };
  error?: string;
}

/**
 * One request through the API server's proxy subresource: `resource` is `pods/NAME:PORT` or
 * `services/NAME:PORTNAME`, `path` what follows /proxy (may be ''). Sent with the kubeconfig's
 * credentials; redirects are not followed (upstream's client does not either).
 */
export async function proxyRequest(
  cluster: Cluster,
  namespace: string,
  resource: string,
  path: string,
  method: HttpMethod,
): Promise<ProxyAnswer> {
  const answer = await apiRequest(
    cluster,
    `/api/v1/namespaces/${namespace}/${resource}/proxy${path}`,
    method,
    cluster.settings.timeouts.probe * 3,
  );
  if (answer.error !== undefined) return { method, url: answer.url, status: 0, error: answer.error };
  let json: ProxyAnswer['json'];
  try {
    json = answer.text ? (JSON.parse(answer.text) as ProxyAnswer['json']) : undefined;
  } catch {
    json = undefined;
  }
  return { method, url: answer.url, status: answer.status, json, error: json ? undefined : answer.text.slice(0, 200) };
}

/** One answer of the API server to `path`: its status and body as text, or the error that stopped it. */
export interface ApiAnswer {
  url: string;
  status: number;
  text: string;
  ms: number;
  error?: string;
}

/** `method` on the API server's `path` (kept as given, trailing slash and all) with the kubeconfig's credentials. */
export async function apiRequest(
  cluster: Cluster,
  path: string,
  method: string,
  timeoutMs: number,
): Promise<ApiAnswer> {
  const server = cluster.kube.config.getCurrentCluster()!.server.replace(/\/$/, '');
  const url = `${server}${path}`;
  const options: RequestOptions = { method, timeout: timeoutMs };
  await cluster.kube.config.applyToHTTPSOptions(options);
  const start = Date.now();
  try {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
    return { url, status, text, ms: Date.now() - start };
  } catch (error) {
    return {
      url,
      status: 0,
      text: '',
      ms: Date.now() - start,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** One URL of upstream's proxy test: the API path (ending in /proxy/) and the body it must answer. */
export interface ProxyCase {
  path: string;
  body: string;
}

/**
 * Upstream's table (proxy.go:100) for the Service `service` (ports portname1 → plaindest1, portname2 →
 * 9162, tlsportname1 → tlsdest1, tlsportname2 → 9462) and the porter pod `pod`: the Service by port
 * name, bare and with http:/https:; the pod with no port (its first), by number, bare and with
 * http:/https:. The pod's HTML comes back with its link rewritten under the URL's own proxy path.
 */
export function proxyCases(namespace: string, service: string, pod: string): ProxyCase[] {
  const join = (scheme: string, name: string, port: string) =>
    scheme ? `${scheme}:${name}:${port}` : port ? `${name}:${port}` : name;
  const svc = (scheme: string, port: string) =>
    `/api/v1/namespaces/${namespace}/services/${join(scheme, service, port)}/proxy`;
  const podUrl = (scheme: string, port: string) =>
    `/api/v1/namespaces/${namespace}/pods/${join(scheme, pod, port)}/proxy`;
  const rewritten = (base: string, body: string) => body.replace('href="/', `href="${base}/`);
  const [first, second, plain1, plain2] = PROXY_PLAIN_PORTS;
  const [tlsRoot, tls1, tls2] = PROXY_TLS_PORTS;
  const cases: ProxyCase[] = [
    { path: svc('', 'portname1'), body: plain1.body },
    { path: svc('http', 'portname1'), body: plain1.body },
    { path: svc('', 'portname2'), body: plain2.body },
    { path: svc('http', 'portname2'), body: plain2.body },
    { path: svc('https', 'tlsportname1'), body: tls1.body },
    { path: svc('https', 'tlsportname2'), body: tls2.body },
    { path: podUrl('', ''), body: rewritten(podUrl('', ''), first.body) },
    { path: podUrl('', `${second.port}`), body: rewritten(podUrl('', `${second.port}`), second.body) },
    { path: podUrl('http', `${second.port}`), body: rewritten(podUrl('http', `${second.port}`), second.body) },
    { path: podUrl('', `${plain1.port}`), body: plain1.body },
    { path: podUrl('http', `${plain1.port}`), body: plain1.body },
    { path: podUrl('', `${plain2.port}`), body: plain2.body },
    { path: podUrl('http', `${plain2.port}`), body: plain2.body },
    { path: podUrl('https', `${tlsRoot.port}`), body: rewritten(podUrl('https', `${tlsRoot.port}`), tlsRoot.body) },
    { path: podUrl('https', `${tls1.port}`), body: tls1.body },
    { path: podUrl('https', `${tls2.port}`), body: tls2.body },
  ];
  return cases.map((c) => ({ path: `${c.path}/`, body: c.body }));
}

/** What is wrong with one GET of a proxy case ('' when nothing): not 200, another body, or slower than `maxMs`. */
export function proxyCaseProblem(c: ProxyCase, answer: ApiAnswer, maxMs: number): string {
  if (answer.error !== undefined) return `${c.path}: ${answer.error}`;
  const problems: string[] = [];
  if (answer.status !== 200) problems.push(`status ${answer.status}`);
  if (answer.text !== c.body)
    problems.push(`answered ${JSON.stringify(answer.text.slice(0, 200))}, not ${JSON.stringify(c.body)}`);
  if (answer.ms > maxMs) problems.push(`took ${answer.ms} ms > ${maxMs} ms`);
  return problems.length ? `${c.path}: ${problems.join('; ')}` : '';
}

/**
 * What is wrong with a proxied answer ('' when nothing). To the proxy's root (no path), GET and HEAD are
 * redirected (301) to the root with a trailing slash and every other method answers; with a path, every
 * method answers 200 with porter's JSON naming the method and its body (HEAD has none).
 */
export function proxyProblem(answer: ProxyAnswer, body: string, toRoot: boolean): string {
  const where = `${answer.method} ${answer.url}`;
  const redirected = toRoot && (answer.method === 'GET' || answer.method === 'HEAD');
  const status = redirected ? 301 : 200;
  if (answer.status !== status) return `${where}: status ${answer.status}, not ${status} ${answer.error ?? ''}`.trim();
  if (redirected || answer.method === 'HEAD') return '';
  if (answer.json?.Method !== answer.method || answer.json?.Body !== body)
    return `${where}: answered ${JSON.stringify(answer.json) ?? answer.error}, not {"Method":"${answer.method}","Body":"${body}"}`;
  return '';
}

/** A hand-made EndpointSlice of a selectorless Service: `addresses` on one port. */
export function endpointSlice(
  cluster: Cluster,
  namespace: string,
  name: string,
  service: string,
  port: { name: string; port: number },
  addresses: string[],
  addressType: 'IPv4' | 'IPv6' = 'IPv4',
): k8s.V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: runLabels(cluster.runId, {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'svc-conformance.io',
      }),
    },
    addressType,
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
  };
}

/** The slices the mirroring controller wrote for a Service: label endpointslice.kubernetes.io/managed-by. */
export const MIRRORED_BY = 'endpointslicemirroring-controller.k8s.io';

/** Each mirrored slice as "address:port/portName" lines, sorted: what the mirror must hold. */
export function sliceEntries(slices: k8s.V1EndpointSlice[]): string[] {
  return slices
    .flatMap((s) =>
      (s.endpoints ?? []).flatMap((e) =>
        e.addresses.flatMap((a) => (s.ports ?? []).map((p) => `${a}:${p.port}/${p.name ?? ''}`)),
      ),
    )
    .sort();
}

/** Each Endpoints subset as the same "address:port/portName" lines. */
export function endpointsEntries(endpoints: k8s.V1Endpoints): string[] {
  return (endpoints.subsets ?? [])
    .flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => `${a.ip}:${p.port}/${p.name ?? ''}`)))
    .sort();
}

/**
 * A range for a second ServiceCIDR that no range of the cluster overlaps: the /24 after the end of
 * its first IPv4 ServiceCIDR (10.96.0.0/16 → 10.97.0.0/24). Inside 10/8 and the cluster's own
 * namespaces on the clusters a run makes; null when the cluster has no IPv4 ServiceCIDR.
 */
export function nextServiceRange(cidrs: string[]): string | null {
  const v4 = cidrs.find((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c));
  if (!v4) return null;
  const [base, bits] = v4.split('/');
  const start = base.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const after = start + 2 ** (32 - Number(bits));
  if (after >= 2 ** 32) return null;
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(after / 2 ** shift) % 256);
  return `${octets.join('.')}/24`;
}
