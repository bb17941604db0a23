import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  AUDIENCE,
  LANGUAGE_TEST_TIMEOUT,
  describeWithToolchain,
  expectThreeCallsOneToken,
  findTool,
  probe,
  run,
  startHarness,
  tamper,
} from './helpers/harness.js';

const dir = fileURLToPath(new URL('../python/', import.meta.url));
// Debian's python3-requests and python3-jwt live with /usr/bin/python3, which may not be first on PATH.
const python = findTool([process.env.PYTHON ?? 'python3', '/usr/bin/python3'], (command) => probe(command, ['-c', 'import requests, jwt, cryptography']));

describeWithToolchain(
  'Python examples (requests + PyJWT)',
  python ? undefined : 'no python3 with requests, PyJWT and cryptography (apt-get install python3-requests python3-jwt)',
  () => {
    let harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(() => harness?.stop());

    it(
      'client.py calls the API three times with one cached token',
      async () => {
        const result = await run(python, ['client.py'], { cwd: dir, env: harness.clientEnv, timeout: 30_000 });
        expectThreeCallsOneToken(expect, result, harness.client.client_id);
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      'verify_token.py accepts a real token and enforces the scope',
      async () => {
        const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE };
        const token = await harness.token();
        const valid = await run(python, ['verify_token.py', token], { cwd: dir, env: { ...env, REQUIRED_SCOPE: 'read:orders' }, timeout: 30_000 });
        expect(valid.stdout.trim(), valid.stderr).toBe(`valid: client ${harness.client.client_id}, scope 'read:orders'`);
        const noScope = await run(python, ['verify_token.py', token], { cwd: dir, env: { ...env, REQUIRED_SCOPE: 'write:orders' }, timeout: 30_000 });
        expect(noScope.code).toBe(1);
        expect(noScope.stdout.trim()).toBe('rejected (403): missing scopes: write:orders');
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      'verify_token.py refuses a tampered token and a token for another audience',
      async () => {
        const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE };
        const tampered = await run(python, ['verify_token.py', tamper(await harness.token())], { cwd: dir, env, timeout: 30_000 });
        expect(tampered.code).toBe(1);
        expect(tampered.stdout.trim()).toBe('rejected (401): Signature verification failed');
        const otherApi = await run(python, ['verify_token.py', await harness.token()], {
          cwd: dir,
          env: { ...env, AUDIENCE: 'https://payments.example' },
          timeout: 30_000,
        });
        expect(otherApi.code).toBe(1);
        expect(otherApi.stdout.trim()).toBe('rejected (401): Invalid audience');
      },
      LANGUAGE_TEST_TIMEOUT,
    );
  },
);
