import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// The commands docs/languages/go.md prints, run verbatim from the repository root: offline, with
// Debian's packaged sources of golang.org/x/oauth2 (golang-golang-x-oauth2-dev) in GOPATH mode.
const GUIDE = 'docs/languages/go.md';
const client = printedCommand(GUIDE, 'client');
const verify = printedCommand(GUIDE, 'verify');
const GOPATH = /GOPATH=(\S+)/.exec(client)?.[1] ?? '';
const hasGo = probe('go', ['version']).code === 0;
const hasOauth2 = existsSync(join(GOPATH, 'src/golang.org/x/oauth2/clientcredentials'));
const missing = !hasGo
  ? 'go not found (apt-get install golang-go)'
  : !hasOauth2
    ? `golang.org/x/oauth2 not in ${GOPATH} (apt-get install golang-golang-x-oauth2-dev)`
    : undefined;

describeWithToolchain('Go examples (golang.org/x/oauth2/clientcredentials), as docs/languages/go.md prints them', missing, () => {
  let harness;
  let goCache;
  beforeAll(async () => {
    harness = await startHarness();
    // A build cache of our own, so the test neither needs nor fills the user's.
    goCache = mkdtempSync(join(tmpdir(), 'm2m-auth-go-'));
  });
  afterAll(async () => {
    await harness?.stop();
    if (goCache) rmSync(goCache, { recursive: true, force: true });
  });

  it('each example says in its header how the guide runs it', () => {
    expect(readFileSync(join(ROOT, 'examples/go/client/main.go'), 'utf8')).toContain(`//\t${client}`);
    expect(readFileSync(join(ROOT, 'examples/go/verify/main.go'), 'utf8')).toContain(`//\t${verify}`);
  });

  it(
    `${client} calls the API three times with one cached token`,
    async () => {
      const result = await runPrinted(client, { env: { ...harness.clientEnv, GOCACHE: goCache, GOFLAGS: '' }, timeout: 120_000 });
      expectThreeCallsOneToken(expect, result, harness.client.client_id);
    },
    LANGUAGE_TEST_TIMEOUT,
  );

  it(
    `${verify} checks the RS256 signature against the JWKS, and the audience and scope`,
    async () => {
      const env = { M2M_AUTH_ISSUER: harness.issuer, AUDIENCE, REQUIRED_SCOPE: 'read:orders', GOCACHE: goCache, GOFLAGS: '' };
      const token = await harness.token();
      const check = (overrides) => runPrinted(verify, { env: { ...env, TOKEN: token, ...overrides }, timeout: 120_000 });
      // The first run builds; the others then find the build cached.
      const valid = await check({});
      const [tampered, otherApi, noScope] = await Promise.all([
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
