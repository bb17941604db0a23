import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUDIENCE,
  LANGUAGE_TEST_TIMEOUT,
  ROOT,
  describeWithToolchain,
  expectThreeCallsOneToken,
  printedCommand,
  probe,
  runPrinted,
  startHarness,
  tamper,
} from './helpers/harness.js';

// The commands docs/languages/java.md prints, run verbatim from the repository root: `java
// <file>.java` compiles the single file in memory and runs it.
const GUIDE = 'docs/languages/java.md';
const client = printedCommand(GUIDE, 'client');
const verify = printedCommand(GUIDE, 'verify');

const javaVersion = probe('java', ['-version']);
const major = Number(/version "(\d+)/.exec(`${javaVersion.stdout}${javaVersion.stderr}`)?.[1] ?? 0);
const missing = javaVersion.code !== 0 ? 'java not found (apt-get install openjdk-17-jdk-headless)' : major < 17 ? `java ${major} is older than 17` : undefined;

describeWithToolchain('Java examples (JDK 17, java.net.http), as docs/languages/java.md prints them', missing, () => {
  let harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.stop());

  it('each example says in its header how the guide runs it', () => {
    expect(readFileSync(join(ROOT, 'examples/java/Client.java'), 'utf8')).toContain(`//   ${client}`);
    expect(readFileSync(join(ROOT, 'examples/java/VerifyToken.java'), 'utf8')).toContain(`//   ${verify}`);
  });

  it(
    `${client} calls the API three times with one cached token`,
    async () => {
      expectThreeCallsOneToken(expect, await runPrinted(client, { env: harness.clientEnv, timeout: 90_000 }), harness.client.client_id);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    `${verify} checks the RS256 signature against the JWKS, and the audience and scope`,
    async () => {
      const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, REQUIRED_SCOPE: 'read:orders' };
      const token = await harness.token();
      const check = (overrides) => runPrinted(verify, { env: { ...env, TOKEN: token, ...overrides }, timeout: 90_000 });
      const [valid, tampered, otherApi, noScope] = await Promise.all([
        check({}),
        check({ TOKEN: tamper(token) }),
        check({ AUDIENCE: 'https://payments.example' }),
        check({ REQUIRED_SCOPE: 'write:orders' }),
      ]);
      expect([valid.code, valid.stdout.trim()], valid.stderr).toEqual([0, `valid: client ${harness.client.client_id}, scope 'read:orders'`]);
      expect([tampered.code, tampered.stdout.trim()]).toEqual([1, 'rejected (401): bad signature']);
      expect([otherApi.code, otherApi.stdout.trim()]).toEqual([1, 'rejected (401): wrong audience']);
      expect([noScope.code, noScope.stdout.trim()]).toEqual([1, 'rejected (403): missing scope write:orders']);
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});
