import { describe, expect, it } from 'vitest';
import { runMtlsSuite } from '../mtls/suite.js';

/**
 * The mutual-TLS bench drives the CLI (certificate clients, --certificate-bound), `serve` with
 * --tls-cert and --mtls-ca, and the resource-server SDK's mtls option from plain JS: a renamed flag
 * or option breaks `npm run bench -- --suite mtls` without breaking a product test. One short,
 * single-connection pass of every variant catches that; no figure is checked.
 */
describe('mutual TLS bench suite', () => {
  it('sets up its server, clients and API and gets only 2xx answers from every variant', async () => {
    const rows = await runMtlsSuite({ connections: 1, repetitions: 1, durationSeconds: 1, progress: () => undefined });
    expect(rows.map((row) => `${row.side}: ${row.name}`)).toEqual([
      'token endpoint: client secret (HTTP Basic)',
      'token endpoint: tls_client_auth, bound token (certificate alone)',
      'token endpoint: client secret + certificate, bound token',
      'API: bearer, unbound token, no certificate',
      'API: certificate-bound token with its certificate',
    ]);
    for (const row of rows) {
      expect(row.failed).toBe(0);
      expect(row.requestsPerSecond.median).toBeGreaterThan(0);
    }
  }, 60_000);
});
