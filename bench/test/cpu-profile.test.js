import { describe, expect, it } from 'vitest';
import { breakdown, flameGraphSvg, loadProfile } from '../lib/cpu-profile.js';

// A hand-made profile: (root) → tokenEndpoint (m2m-auth) → signOneShot, and (root) → (idle).
// Samples every 10 µs from t = 1000: idle, endpoint, sign, sign, endpoint, idle, sign, (end).
const frame = (functionName, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4] },
    { id: 2, callFrame: frame('tokenEndpoint', 'file:///app/packages/server/dist/endpoints/token-endpoint.js'), children: [3] },
    { id: 3, callFrame: frame('signOneShot', 'node:internal/crypto/sig'), children: [] },
    { id: 4, callFrame: frame('(idle)'), children: [] },
  ],
  startTime: 1000,
  endTime: 1080,
  samples: [4, 2, 3, 3, 2, 4, 3, 4],
  timeDeltas: [0, 10, 10, 10, 10, 10, 10, 10],
};

describe('CPU profile reading (bench:profile)', () => {
  it('charges busy time per request by category and leaves idle time out', () => {
    const { busyMicrosPerRequest, rows } = breakdown(loadProfile(profile), 2);
    expect(busyMicrosPerRequest).toBe(25); // 5 busy samples × 10 µs over 2 requests
    expect(rows).toEqual([
      { category: 'the signature (node:crypto)', microsPerRequest: 15, share: 0.6 },
      { category: 'm2m-auth server: endpoints/token-endpoint.js', microsPerRequest: 10, share: 0.4 },
    ]);
  });

  it('counts only the samples inside the measured window', () => {
    // Samples at 1010 … 1040 only: endpoint, sign, sign, endpoint.
    const { busyMicrosPerRequest } = breakdown(loadProfile(profile, { fromMicros: 1010, toMicros: 1040 }), 1);
    expect(busyMicrosPerRequest).toBe(40);
  });

  it('draws each frame as wide as its share of busy time', () => {
    const svg = flameGraphSvg(loadProfile(profile), { title: 'test', width: 1000 });
    expect(svg).toMatch(/tokenEndpoint .* — 100\.0% of busy time<\/title><rect x="0\.0" y="[\d.]+" width="999\.5"/);
    expect(svg).toMatch(/signOneShot .* — 60\.0% of busy time<\/title><rect x="0\.0" y="[\d.]+" width="599\.5"/);
    expect(svg).not.toContain('(idle)');
  });
});
