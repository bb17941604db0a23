import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { m2mAuth } from '../demo/auth-server.mjs';
import { LANGUAGE_TEST_TIMEOUT, describeWithToolchain, findTool, probe, run } from './helpers/harness.js';
import { startSecretlessHarness } from './helpers/secretless.js';

/**
 * The secretless examples (examples/python/secretless_client.py, examples/java/SecretlessClient.java,
 * examples/go/secretless) against a real m2m-auth that trusts a loopback platform issuer: each
 * sends a platform token from a file instead of a secret, gets an access token, prints its scope
 * and lifetime (never a token), and is refused with invalid_client for a tampered one.
 */

const examples = fileURLToPath(new URL('..', import.meta.url));
const GRANTED = /^access token: scope 'read:orders', expires in \d+ s$/;
const REFUSED = 'token request refused: 401 invalid_client (Client authentication failed.)';

// One m2m-auth for the three languages, started by the first that runs.
let started;
const harness = () => (started ??= startSecretlessHarness());
afterAll(async () => {
  await started?.then(
    (h) => h.stop(),
    () => undefined,
  );
});

/** The payload changed (another namespace), the signature kept: what a stolen token edited for another workload looks like. */
function tamper(token) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const edited = { ...claims, 'kubernetes.io': { ...claims['kubernetes.io'], namespace: 'payments' } };
  return [header, Buffer.from(JSON.stringify(edited)).toString('base64url'), signature].join('.');
}

/** The same three checks for each language; `runExample(env)` runs its program. */
function secretlessCases(runExample) {
  it(
    'a projected service-account token gets an access token, with no secret anywhere',
    async () => {
      const h = await harness();
      const result = await runExample(h.env(h.tokenFile(await h.serviceAccountToken())));
      expect(result.stdout.trim(), result.stderr).toMatch(GRANTED);
      expect(result.code).toBe(0);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/eyJ/);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    'a SPIFFE JWT-SVID, sent as jwt-spiffe, gets an access token',
    async () => {
      const h = await harness();
      const result = await runExample(h.env(h.tokenFile(await h.jwtSvid()), { ASSERTION_TYPE: 'jwt-spiffe' }));
      expect(result.stdout.trim(), result.stderr).toMatch(GRANTED);
      expect(result.code).toBe(0);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    'a tampered platform token is refused with invalid_client',
    async () => {
      const h = await harness();
      const result = await runExample(h.env(h.tokenFile(tamper(await h.serviceAccountToken()))));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim()).toBe(REFUSED);
    },
    LANGUAGE_TEST_TIMEOUT,
  );
}

// Standard library only: any python3 will do.
const python = findTool([process.env.PYTHON ?? 'python3', '/usr/bin/python3'], (command) => probe(command, ['--version']));
describeWithToolchain('Python secretless client (urllib)', python ? undefined : 'no python3 (apt-get install python3)', () => {
  secretlessCases((env) => run(python, ['secretless_client.py'], { cwd: join(examples, 'python'), env, timeout: 30_000 }));
});

const javac = probe('javac', ['-version']);
const javaMajor = Number(/javac (\d+)/.exec(`${javac.stdout}${javac.stderr}`)?.[1] ?? 0);
describeWithToolchain(
  'Java secretless client (JDK 17, java.net.http)',
  javac.code !== 0 ? 'javac not found (apt-get install openjdk-17-jdk-headless)' : javaMajor < 17 ? `javac ${javaMajor} is older than 17` : undefined,
  () => {
    let classes;
    beforeAll(async () => {
      classes = mkdtempSync(join(tmpdir(), 'm2m-auth-java-secretless-'));
      const [compiled] = await Promise.all([run('javac', ['-d', classes, join(examples, 'java', 'SecretlessClient.java')], { timeout: 90_000 }), harness()]);
      if (compiled.code !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
    }, 120_000);
    afterAll(() => classes && rmSync(classes, { recursive: true, force: true }));
    secretlessCases((env) => run('java', ['-cp', classes, 'SecretlessClient'], { env, timeout: 60_000 }));
  },
);

describeWithToolchain('Go secretless client (net/http)', probe('go', ['version']).code === 0 ? undefined : 'go not found (apt-get install golang-go)', () => {
  let bin;
  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'm2m-auth-go-secretless-'));
    // Standard library only: it builds offline, in GOPATH mode as in module mode.
    const env = { GO111MODULE: 'off', GOCACHE: join(bin, 'cache'), GOFLAGS: '' };
    const [built] = await Promise.all([
      run('go', ['build', '-o', join(bin, 'secretless'), './secretless'], { cwd: join(examples, 'go'), env, timeout: 120_000 }),
      harness(),
    ]);
    if (built.code !== 0) throw new Error(`go build failed:\n${built.stderr}`);
  }, 150_000);
  afterAll(() => bin && rmSync(bin, { recursive: true, force: true }));
  secretlessCases((env) => run(join(bin, 'secretless'), [], { env, timeout: 30_000 }));
});

it('the client the examples authenticate as has no secret, only its federated credentials', async () => {
  const h = await harness();
  const [secrets, credentials] = await Promise.all([
    m2mAuth(h.dataDir, ['clients', 'secrets', 'list', h.client.client_id]),
    m2mAuth(h.dataDir, ['clients', 'federated', 'list', '--client', h.client.client_id]),
  ]);
  expect(secrets).toEqual([]);
  expect(credentials.map((credential) => [credential.issuer, credential.subject])).toEqual(
    expect.arrayContaining([
      [h.cluster.issuer, 'system:serviceaccount:orders:reporter'],
      ['spiffe://example.org', 'spiffe://example.org/ns/orders/sa/reporter'],
    ]),
  );
});
