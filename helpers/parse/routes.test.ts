import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRoutes, renderRoute, routeFor } from './routes.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseRoutes', () => {
  it("reads a node's routes: default, its own pod range on the bridge, the other node's via that node", () => {
    expect(parseRoutes(fixture('ip-route.clean.txt'))).toEqual([
      { dst: 'default', via: '10.246.0.1', dev: 'eth0' },
      { dst: '10.236.1.0/24', dev: 'cni0', proto: 'kernel', scope: 'link', src: '10.236.1.1' },
      { dst: '10.236.2.0/24', via: '10.246.0.12', dev: 'eth0' },
      { dst: '10.246.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', src: '10.246.0.11' },
    ]);
  });

  it('reads route types, metrics and a multipath route with its next hops', () => {
    expect(parseRoutes(fixture('ip-route.blackhole.txt'))).toEqual([
      { dst: 'default', via: '10.246.0.1', dev: 'eth0' },
      { dst: '10.236.0.0/16', via: '10.246.0.1', dev: 'eth0', metric: 100 },
      { dst: '10.236.1.0/24', dev: 'cni0', proto: 'kernel', scope: 'link', src: '10.236.1.1' },
      { dst: '10.236.2.0/24', type: 'blackhole' },
      { dst: '10.236.3.0/24', type: 'unreachable' },
      {
        dst: '10.236.4.0/24',
        nexthops: [
          { via: '10.246.0.12', dev: 'eth0', weight: 1 },
          { via: '10.246.0.1', dev: 'eth0', weight: 2 },
        ],
      },
      { dst: '10.236.4.128/25', type: 'prohibit' },
      { dst: '10.246.0.0/24', dev: 'eth0', proto: 'kernel', scope: 'link', src: '10.246.0.11' },
    ]);
  });

  it('writes a host route as a /32', () => {
    expect(parseRoutes('10.246.0.99 dev eth0 scope link \n')).toEqual([
      { dst: '10.246.0.99/32', dev: 'eth0', scope: 'link' },
    ]);
  });
});

describe('routeFor', () => {
  it("finds the route to the other node's pod range", () => {
    expect(routeFor(parseRoutes(fixture('ip-route.clean.txt')), '10.236.2.0/24')).toEqual({
      carrier: { dst: '10.236.2.0/24', via: '10.246.0.12', dev: 'eth0' },
      route: '10.236.2.0/24 via 10.246.0.12 dev eth0',
      refused: [],
      carried: true,
      viaDefault: false,
    });
  });

  it('falls back to the default route once the pod range route is deleted', () => {
    expect(routeFor(parseRoutes(fixture('ip-route.missing.txt')), '10.236.2.0/24')).toEqual({
      carrier: { dst: 'default', via: '10.246.0.1', dev: 'eth0' },
      route: 'default via 10.246.0.1 dev eth0',
      refused: [],
      carried: true,
      viaDefault: true,
    });
  });

  it('says there is no route when not even a default route covers the range', () => {
    const withoutDefault = parseRoutes(fixture('ip-route.missing.txt')).filter((r) => r.dst !== 'default');
    expect(routeFor(withoutDefault, '10.236.2.0/24')).toEqual({
      refused: [],
      carried: false,
      viaDefault: false,
      problem: 'has no route to 10.236.2.0/24',
    });
  });

  it('reports a blackhole or unreachable route that takes precedence over the covering /16', () => {
    const routes = parseRoutes(fixture('ip-route.blackhole.txt'));
    expect(routeFor(routes, '10.236.2.0/24')).toEqual({
      carrier: { dst: '10.236.0.0/16', via: '10.246.0.1', dev: 'eth0', metric: 100 },
      route: '10.236.0.0/16 via 10.246.0.1 dev eth0 metric 100',
      refused: [{ dst: '10.236.2.0/24', type: 'blackhole' }],
      carried: false,
      viaDefault: false,
      problem: 'routes 10.236.2.0/24 to a blackhole',
    });
    expect(routeFor(routes, '10.236.3.0/24')).toMatchObject({
      refused: [{ dst: '10.236.3.0/24', type: 'unreachable' }],
      carried: false,
      problem: 'routes 10.236.3.0/24 as unreachable',
    });
  });

  it('reports a prohibit route for part of a range that a multipath route carries', () => {
    expect(routeFor(parseRoutes(fixture('ip-route.blackhole.txt')), '10.236.4.0/24')).toEqual({
      carrier: {
        dst: '10.236.4.0/24',
        nexthops: [
          { via: '10.246.0.12', dev: 'eth0', weight: 1 },
          { via: '10.246.0.1', dev: 'eth0', weight: 2 },
        ],
      },
      route: '10.236.4.0/24 nexthop via 10.246.0.12 dev eth0 weight 1 nexthop via 10.246.0.1 dev eth0 weight 2',
      refused: [{ dst: '10.236.4.128/25', type: 'prohibit' }],
      carried: false,
      viaDefault: false,
      problem: 'routes 10.236.4.128/25 (part of 10.236.4.0/24) as prohibited',
    });
  });

  it('does not count a route for part of the range, nor a blackhole less specific than the carrier', () => {
    const routes = parseRoutes(fixture('ip-route.blackhole.txt'));
    expect(routeFor(routes, '10.236.4.128/26').route).toBe(
      '10.236.4.0/24 nexthop via 10.246.0.12 dev eth0 weight 1 nexthop via 10.246.0.1 dev eth0 weight 2',
    );
    expect(routeFor(routes, '10.236.1.0/24')).toMatchObject({
      route: '10.236.1.0/24 dev cni0 proto kernel scope link src 10.236.1.1',
      carried: true,
    });
    expect(routeFor(routes, '10.236.0.0/16')).toMatchObject({
      route: '10.236.0.0/16 via 10.246.0.1 dev eth0 metric 100',
      carried: false, // blackhole, unreachable and prohibit take parts of it
    });
  });

  it('writes a route back on one line', () => {
    expect(renderRoute({ dst: '10.236.2.0/24', type: 'blackhole' })).toBe('blackhole 10.236.2.0/24');
  });
});
