import { describe, expect, it } from 'vitest';
import { goDurationSeconds } from './conntrack-settings.js';

describe('goDurationSeconds', () => {
  it("reads kube-proxy's /configz durations as seconds", () => {
    expect(goDurationSeconds('1h0m0s')).toBe(3600);
    expect(goDurationSeconds('24h0m0s')).toBe(86_400);
    expect(goDurationSeconds('1m30s')).toBe(90);
    expect(goDurationSeconds('0s')).toBe(0);
  });
});
