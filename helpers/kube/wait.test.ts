import { describe, expect, it } from 'vitest';
import { GiveUp, waitFor, WaitTimeoutError } from './wait.js';

describe('waitFor', () => {
  it('stops at once on GiveUp from the condition, with its message, not after the budget', async () => {
    const started = Date.now();
    const wait = waitFor('3 ready pods', 30_000, () => {
      throw new GiveUp('3 ready pods: no node can take pod x');
    });
    await expect(wait).rejects.toThrow(GiveUp);
    await expect(wait).rejects.toThrow('3 ready pods: no node can take pod x');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('says what it waited for, the budget and what it saw last when the budget runs out', async () => {
    const wait = waitFor('a thing', 300, () => Promise.resolve({ done: false, seen: 'not yet' }));
    await expect(wait).rejects.toThrow(WaitTimeoutError);
    await expect(wait).rejects.toThrow(/^a thing not reached after \d+ms; last seen: not yet$/);
  });
});
