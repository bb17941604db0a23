import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import {
  AUDIENCE,
  LANGUAGE_TEST_TIMEOUT,
  ROOT,
  describeWithToolchain,
  expectThreeCallsOneToken,
  findTool,
  printedCommand,
  probe,
  runPrinted,
  startHarness,
  tamper,
} from './helpers/harness.js';

// The commands docs/languages/python.md prints, run verbatim from the repository root.
const GUIDE = 'docs/languages/python.md';
const client = printedCommand(GUIDE, 'client');
const verify = printedCommand(GUIDE, 'verify');

// Debian's python3-requests and python3-jwt live with /usr/bin/python3, which may not be first on
// PATH: the printed `python3` is then found there, by putting its directory first.
const python = findTool([process.env.PYTHON ?? 'python3', '/usr/bin/python3'], (command) => probe(command, ['-c', 'import requests, jwt, cryptography']));
const PATH = python && isAbsolute(python) ? `${dirname(python)}:${process.env.PATH}` : process.env.PATH;

describeWithToolchain(
  'Python examples (requests + PyJWT), as docs/languages/python.md prints them',
  python ? undefined : 'no python3 with requests, PyJWT and cryptography (apt-get install python3-requests python3-jwt)',
  () => {
    let harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(() => harness?.stop());

    it('each example says in its header how the guide runs it', () => {
      expect(readFileSync(join(ROOT, 'examples/python/client.py'), 'utf8')).toContain(`    ${client}`);
      expect(readFileSync(join(ROOT, 'examples/python/verify_token.py'), 'utf8')).toContain(`    ${verify}`);
    });

    it(
      `${client} calls the API three times with one cached token`,
      async () => {
        const result = await runPrinted(client, { env: { ...harness.clientEnv, PATH }, timeout: 30_000 });
        expectThreeCallsOneToken(expect, result, harness.client.client_id);
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      `${verify} accepts a real token and enforces the scope`,
      async () => {
        const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, PATH, TOKEN: await harness.token() };
        const valid = await runPrinted(verify, { env: { ...env, REQUIRED_SCOPE: 'read:orders' }, timeout: 30_000 });
        expect(valid.stdout.trim(), valid.stderr).toBe(`valid: client ${harness.client.client_id}, scope 'read:orders'`);
        const noScope = await runPrinted(verify, { env: { ...env, REQUIRED_SCOPE: 'write:orders' }, timeout: 30_000 });
        expect([noScope.code, noScope.stdout.trim()]).toEqual([1, 'rejected (403): missing scopes: write:orders']);
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      `${verify} refuses a tampered token and a token for another audience`,
      async () => {
        const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, PATH };
        const tampered = await runPrinted(verify, { env: { ...env, TOKEN: tamper(await harness.token()) }, timeout: 30_000 });
        expect([tampered.code, tampered.stdout.trim()]).toEqual([1, 'rejected (401): Signature verification failed']);
        const otherApi = await runPrinted(verify, { env: { ...env, TOKEN: await harness.token(), AUDIENCE: 'https://payments.example' }, timeout: 30_000 });
        expect([otherApi.code, otherApi.stdout.trim()]).toEqual([1, 'rejected (401): Invalid audience']);
      },
      LANGUAGE_TEST_TIMEOUT,
    );
  },
);
