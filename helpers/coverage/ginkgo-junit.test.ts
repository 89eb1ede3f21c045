// parseGinkgoJunit on an excerpt of a real junit_01.xml (npm run conformance -- --families, iptables,
// 3 nodes in 3 zones): a pass, a failure whose text is in the element (its message attribute empty),
// skips at run time with their reason, a spec left out by the focus, and a suite-level node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseOf, parseGinkgoJunit } from './ginkgo-junit.js';

const xml = readFileSync(join(import.meta.dirname, 'fixtures', 'junit_01.families-iptables.excerpt.xml'), 'utf8');
const cases = parseGinkgoJunit(xml);
const sig = (title: string) => `[sig-network] ${title}`;

describe('parseGinkgoJunit', () => {
  it("reads each [It] spec, not ginkgo's suite-level nodes", () => {
    expect(cases.map((c) => c.outcome)).toEqual(['passed', 'failed', 'skipped', 'skipped', 'skipped']);
    expect(cases.some((c) => c.name.includes('SynchronizedBeforeSuite'))).toBe(false);
  });

  it("takes a failure's text from the element when upstream leaves its message attribute empty", () => {
    const failed = caseOf(
      cases,
      sig('Conntrack proxy implementation should not be vulnerable to the invalid conntrack state bug [Privileged]'),
    );
    expect(failed?.state).toBe('failed');
    expect(failed?.message.split('\n')[0]).toBe('boom-server pod did not send any bad packet to the client');
  });

  it('gives a skip its reason without the "skipped - " prefix, and a spec the focus left out none', () => {
    expect(caseOf(cases, sig('Services should work after restarting kube-proxy [Disruptive]'))?.message).toBe(
      'Skipped because component:kube-proxy is not running as pod.',
    );
    expect(cases.at(-1)?.message).toBe('');
    expect(cases.at(-1)?.name).toContain("reflector doesn't support receiving resources as Tables");
  });

  it('finds a case by its whole title only', () => {
    const passed = sig('Services should preserve source pod IP for traffic thru service cluster IP [LinuxOnly]');
    expect(caseOf(cases, passed)?.outcome).toBe('passed');
    expect(caseOf(cases, passed.replace(' [LinuxOnly]', ''))).toBeUndefined();
  });
});
