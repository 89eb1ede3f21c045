// How a look is judged (sticky, spread, moved after a lapse) and what a lapse Service asks for.
import { describe, expect, it } from 'vitest';
import type { Tally } from '../parse/svcprobe.js';
import { spread, stickyBackend } from './affinity.js';
import { AFFINITY_TIMEOUT_SECONDS, LAPSE_PORTS, moved, withAffinityTimeout } from './affinity-timeout.js';

const tally = (answers: Record<string, number>, count = 30): Tally => {
  const ok = Object.values(answers).reduce((a, b) => a + b, 0);
  return { target: 'http://10.96.0.7:80/', count, ok, answers, durationMs: 1 };
};

describe('affinity looks', () => {
  it('a look is sticky only when every request was answered by one backend', () => {
    expect(stickyBackend(tally({ a: 30 }))).toBe('a');
    expect(stickyBackend(tally({ a: 29, b: 1 }))).toBeUndefined();
    expect(stickyBackend(tally({ a: 29 }))).toBeUndefined(); // one request failed
  });

  it('a look is spread only when every request was answered, by several backends', () => {
    expect(spread(tally({ a: 10, b: 20 }))).toBe(true);
    expect(spread(tally({ a: 30 }))).toBe(false);
    expect(spread(tally({ a: 10, b: 19 }))).toBe(false);
  });

  it('a port moved when its one request after the quiet period met another backend than its sticky look', () => {
    const before = tally({ a: 30 });
    expect(moved({ url: 'u', before, after: tally({ b: 1 }, 1) })).toBe(true);
    expect(moved({ url: 'u', before, after: tally({ a: 1 }, 1) })).toBe(false);
    expect(moved({ url: 'u', before, after: tally({}, 1) })).toBe(false); // no answer is no move
    expect(moved({ url: 'u', before: tally({ a: 15, b: 15 }), after: tally({ c: 1 }, 1) })).toBe(false);
  });

  it('a lapse Service has LAPSE_PORTS named ports to the same target, ClientIP affinity and the short timeout', () => {
    const service = { spec: { ports: [{ name: 'default', port: 80, targetPort: 9376, protocol: 'TCP' }] } };
    withAffinityTimeout(service);
    expect(service.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual(
      Array.from({ length: LAPSE_PORTS }, (_, i) => [`p${i}`, 80 + i, 9376]),
    );
    expect(service.spec).toMatchObject({
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: AFFINITY_TIMEOUT_SECONDS } },
    });
  });
});
