import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, LANGUAGE_TEST_TIMEOUT, describeWithToolchain, expectThreeCallsOneToken, probe, run, startHarness, tamper } from './helpers/harness.js';

const dir = fileURLToPath(new URL('../java/', import.meta.url));
const javaVersion = probe('javac', ['-version']);
const major = Number(/javac (\d+)/.exec(`${javaVersion.stdout}${javaVersion.stderr}`)?.[1] ?? 0);
const missing =
  javaVersion.code !== 0 ? 'javac not found (apt-get install openjdk-17-jdk-headless)' : major < 17 ? `javac ${major} is older than 17` : undefined;

describeWithToolchain('Java examples (JDK 17, java.net.http)', missing, () => {
  let harness;
  let classes;
  beforeAll(async () => {
    classes = mkdtempSync(join(tmpdir(), 'm2m-auth-java-'));
    const [, compiled] = await Promise.all([
      startHarness().then((started) => (harness = started)),
      run('javac', ['-d', classes, join(dir, 'Client.java'), join(dir, 'VerifyToken.java')], { timeout: 90_000 }),
    ]);
    if (compiled.code !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
    if (classes) rmSync(classes, { recursive: true, force: true });
  });

  const java = (args, env) => run('java', ['-cp', classes, ...args], { env, timeout: 60_000 });

  it(
    'Client calls the API three times with one cached token',
    async () => {
      expectThreeCallsOneToken(expect, await java(['Client'], harness.clientEnv), harness.client.client_id);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    'VerifyToken checks the RS256 signature against the JWKS, and the audience and scope',
    async () => {
      const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, REQUIRED_SCOPE: 'read:orders' };
      const token = await harness.token();
      const [valid, tampered, otherApi, noScope] = await Promise.all([
        java(['VerifyToken', token], env),
        java(['VerifyToken', tamper(token)], env),
        java(['VerifyToken', token], { ...env, AUDIENCE: 'https://payments.example' }),
        java(['VerifyToken', token], { ...env, REQUIRED_SCOPE: 'write:orders' }),
      ]);
      expect([valid.code, valid.stdout.trim()], valid.stderr).toEqual([0, `valid: client ${harness.client.client_id}, scope 'read:orders'`]);
      expect([tampered.code, tampered.stdout.trim()]).toEqual([1, 'rejected (401): bad signature']);
      expect([otherApi.code, otherApi.stdout.trim()]).toEqual([1, 'rejected (401): wrong audience']);
      expect([noScope.code, noScope.stdout.trim()]).toEqual([1, 'rejected (403): missing scope write:orders']);
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});
