import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, LANGUAGE_TEST_TIMEOUT, describeWithToolchain, expectThreeCallsOneToken, probe, run, startHarness, tamper } from './helpers/harness.js';

const dir = fileURLToPath(new URL('../curl/', import.meta.url));
const missing = ['bash', 'curl', 'jq', 'sha256sum'].filter((tool) => probe(tool, ['--version']).code !== 0);

describeWithToolchain('curl examples (bash + curl + jq)', missing.length ? `${missing.join(', ')} not found` : undefined, () => {
  let harness;
  let cacheDir;
  beforeAll(async () => {
    harness = await startHarness();
    cacheDir = mkdtempSync(join(tmpdir(), 'm2m-auth-curl-'));
  });
  afterAll(async () => {
    await harness?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it(
    'call-api.sh calls the API three times with one cached token, kept in a private file',
    async () => {
      const result = await run('bash', [join(dir, 'call-api.sh')], { env: { ...harness.clientEnv, TOKEN_CACHE_DIR: cacheDir }, timeout: 30_000 });
      expectThreeCallsOneToken(expect, result, harness.client.client_id);
      const [cacheFile] = readdirSync(cacheDir);
      expect(statSync(join(cacheDir, cacheFile)).mode & 0o777).toBe(0o600);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    'introspect.sh reports a real token active, and a tampered one or one for another API inactive',
    async () => {
      const env = { M2M_AUTH_ISSUER: harness.issuer, CLIENT_ID: harness.introspector.client_id, CLIENT_SECRET: harness.introspector.client_secret, AUDIENCE };
      const token = await harness.token();
      const active = await run('bash', [join(dir, 'introspect.sh'), token], { env, timeout: 30_000 });
      expect(active.code, active.stderr).toBe(0);
      expect(JSON.parse(active.stdout)).toMatchObject({ active: true, client_id: harness.client.client_id, scope: 'read:orders' });
      const tampered = await run('bash', [join(dir, 'introspect.sh'), tamper(token)], { env, timeout: 30_000 });
      expect([tampered.code, tampered.stdout.trim()]).toEqual([1, 'inactive']);
      const otherApi = await run('bash', [join(dir, 'introspect.sh'), token], { env: { ...env, AUDIENCE: 'https://payments.example' }, timeout: 30_000 });
      expect([otherApi.code, otherApi.stdout.trim()]).toEqual([1, 'inactive']);
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});
