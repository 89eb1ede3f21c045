import { describe, expect, it } from 'vitest';
import { proxyCaseProblem, proxyCases } from './api-objects.js';

describe('proxyCases', () => {
  const cases = proxyCases('ns', 'proxy-service', 'porter');
  const body = (path: string) => cases.find((c) => c.path === path)?.body;

  it("asks upstream's 16 URLs (proxy.go:100), each ending in /proxy/", () => {
    expect(cases).toHaveLength(16);
    expect(cases.every((c) => c.path.endsWith('/proxy/'))).toBe(true);
    expect(new Set(cases.map((c) => c.path)).size).toBe(16);
  });

  it('names the Service by port name, bare and with http: and https:', () => {
    expect(body('/api/v1/namespaces/ns/services/proxy-service:portname1/proxy/')).toBe('foo');
    expect(body('/api/v1/namespaces/ns/services/http:proxy-service:portname2/proxy/')).toBe('bar');
    expect(body('/api/v1/namespaces/ns/services/https:proxy-service:tlsportname1/proxy/')).toBe('tls baz');
    expect(body('/api/v1/namespaces/ns/services/https:proxy-service:tlsportname2/proxy/')).toBe('tls qux');
  });

  it("expects the pod's HTML with its link under the URL's own proxy path, with no port and with a scheme", () => {
    expect(body('/api/v1/namespaces/ns/pods/porter/proxy/')).toBe(
      '<a href="/api/v1/namespaces/ns/pods/porter/proxy/rewriteme">test</a>',
    );
    expect(body('/api/v1/namespaces/ns/pods/http:porter:1080/proxy/')).toBe(
      '<a href="/api/v1/namespaces/ns/pods/http:porter:1080/proxy/rewriteme">test</a>',
    );
    expect(body('/api/v1/namespaces/ns/pods/https:porter:9443/proxy/')).toBe(
      '<a href="/api/v1/namespaces/ns/pods/https:porter:9443/proxy/tlsrewriteme">test</a>',
    );
    expect(body('/api/v1/namespaces/ns/pods/https:porter:9462/proxy/')).toBe('tls qux');
  });
});

describe('proxyCaseProblem', () => {
  const c = { path: '/p/proxy/', body: 'foo' };
  const answer = { url: 'https://api/p/proxy/', status: 200, text: 'foo', ms: 5 };

  it('passes 200 with the body in time', () => {
    expect(proxyCaseProblem(c, answer, 30_000)).toBe('');
  });

  it('names a wrong status, a wrong body, a slow answer and an error', () => {
    expect(proxyCaseProblem(c, { ...answer, status: 503, text: 'Error trying to reach service' }, 30_000)).toBe(
      '/p/proxy/: status 503; answered "Error trying to reach service", not "foo"',
    );
    expect(proxyCaseProblem(c, { ...answer, ms: 31_000 }, 30_000)).toBe('/p/proxy/: took 31000 ms > 30000 ms');
    expect(proxyCaseProblem(c, { ...answer, status: 0, text: '', error: 'ECONNRESET' }, 30_000)).toBe(
      '/p/proxy/: ECONNRESET',
    );
  });
});
