import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, LANGUAGE_TEST_TIMEOUT, describeWithToolchain, expectThreeCallsOneToken, probe, run, startHarness, tamper } from './helpers/harness.js';

const dir = fileURLToPath(new URL('../go/', import.meta.url));
// Offline, from Debian's packaged sources (golang-golang-x-oauth2-dev) in GOPATH mode; with a
// module proxy, `go run ./client` in examples/go uses go.mod instead.
const GOPATH = process.env.M2M_AUTH_GOPATH ?? '/usr/share/gocode';
const hasGo = probe('go', ['version']).code === 0;
const hasOauth2 = existsSync(join(GOPATH, 'src/golang.org/x/oauth2/clientcredentials'));
const missing = !hasGo
  ? 'go not found (apt-get install golang-go)'
  : !hasOauth2
    ? `golang.org/x/oauth2 not in ${GOPATH} (apt-get install golang-golang-x-oauth2-dev)`
    : undefined;

describeWithToolchain('Go examples (golang.org/x/oauth2/clientcredentials)', missing, () => {
  let harness;
  let bin;
  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'm2m-auth-go-'));
    const env = { GO111MODULE: 'off', GOPATH, GOCACHE: join(bin, 'cache'), GOFLAGS: '' };
    const build = (name) => run('go', ['build', '-o', join(bin, name), `./${name}`], { cwd: dir, env, timeout: 120_000 });
    const [, client, verify] = await Promise.all([startHarness().then((started) => (harness = started)), build('client'), build('verify')]);
    for (const built of [client, verify]) if (built.code !== 0) throw new Error(`go build failed:\n${built.stderr}`);
  }, 150_000);
  afterAll(async () => {
    await harness?.stop();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  it(
    'client calls the API three times with one cached token',
    async () => {
      expectThreeCallsOneToken(expect, await run(join(bin, 'client'), [], { env: harness.clientEnv, timeout: 30_000 }), harness.client.client_id);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    'verify checks the RS256 signature against the JWKS, and the audience and scope',
    async () => {
      const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, REQUIRED_SCOPE: 'read:orders' };
      const token = await harness.token();
      const verify = (args, overrides = {}) => run(join(bin, 'verify'), args, { env: { ...env, ...overrides }, timeout: 30_000 });
      const [valid, tampered, otherApi, noScope] = await Promise.all([
        verify([token]),
        verify([tamper(token)]),
        verify([token], { AUDIENCE: 'https://payments.example' }),
        verify([token], { REQUIRED_SCOPE: 'write:orders' }),
      ]);
      expect([valid.code, valid.stdout.trim()], valid.stderr).toEqual([0, `valid: client ${harness.client.client_id}, scope 'read:orders'`]);
      expect([tampered.code, tampered.stdout.trim()]).toEqual([1, 'rejected (401): bad signature']);
      expect([otherApi.code, otherApi.stdout.trim()]).toEqual([1, 'rejected (401): wrong audience']);
      expect([noScope.code, noScope.stdout.trim()]).toEqual([1, 'rejected (403): missing scope write:orders']);
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});
