import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { decodeJwt } from 'jose';
import { cli, cliJson, startServeProcess } from '../helpers/cli-process.js';
import { startPlatformIssuer, type PlatformIssuer } from '../helpers/platform-issuer.js';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/federation/federation-rules.js';

/**
 * Workload identity federation as an operator sets it up, on SQLite: `m2m-auth issuers` and
 * `m2m-auth clients federated` against the data directory of a running server, and a workload
 * that holds no m2m-auth secret getting a token with its platform token — until its credential
 * is removed.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-federation-cli-'));
const d = ['--data-dir', dataDir];
const file = (name: string, content: unknown) => {
  const path = join(dataDir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const publicJwk = (kid: string, use = 'sig') => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...publicKey.export({ format: 'jwk' }), kid, use, alg: 'ES256' };
};

/** A refusal as the operator reads it, without the line naming the store the command opened. */
const errorOf = (result: { stderr: string }) => result.stderr.replace(/^store: .*\n/, '');
/** A --json refusal without the store it names. */
const errorJsonOf = (result: { stderr: string }) => {
  const { store, ...error } = JSON.parse(result.stderr) as Record<string, unknown>;
  expect(store).toMatchObject({ kind: 'sqlite' });
  return error;
};

let server: { url: string; child: ChildProcess };
let platform: PlatformIssuer;

beforeAll(async () => {
  server = await startServeProcess(['--port', '0', ...d]);
  platform = await startPlatformIssuer();
});
afterAll(async () => {
  server?.child.kill('SIGKILL');
  await platform?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function tokenWith(assertion: string) {
  const response = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      audience: 'https://payments.example',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const platformToken = (subject: string) => {
  const at = Math.floor(Date.now() / 1000);
  return platform.sign({ sub: subject, aud: 'm2m-auth-e2e', iat: at, exp: at + 300, jti: randomUUID() });
};

describe('federation from the CLI', { timeout: 120_000 }, () => {
  it('trust an issuer, federate a client, and its workload authenticates with a platform token until the credential is removed', async () => {
    const issuer = await cliJson(['issuers', 'add', '--issuer', platform.issuer, '--token-reuse', 'refuse', '--max-token-lifetime', '10m', ...d]);
    expect(issuer).toEqual({
      issuer: platform.issuer,
      kind: 'oidc',
      jwks_uri: null,
      jwks: null,
      token_reuse: 'refuse',
      max_token_lifetime_seconds: 600,
      shared: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    await cliJson(['apis', 'create', '--identifier', 'https://payments.example', '--scopes', 'payments:write', ...d]);
    const client = await cliJson<{ client_id: string }>(['clients', 'create', '--name', 'payments-worker', ...d]);
    await cliJson(['grants', 'create', '--client', client.client_id, '--api', 'https://payments.example', '--scopes', 'payments:write', ...d]);

    const added = await cli([
      'clients',
      'federated',
      'add',
      '--client',
      client.client_id,
      '--issuer',
      platform.issuer,
      '--subject',
      'system:serviceaccount:payments:worker',
      '--audience',
      'm2m-auth-e2e',
      '--audience',
      'https://auth.example',
      '--claim',
      'kubernetes.io/namespace=payments',
      '--description',
      'the payments worker pod',
      ...d,
    ]);
    expect(added.code).toBe(0);
    const id = /^id:\s+(fed_\S+)$/m.exec(added.stdout)?.[1];
    expect(added.stdout.split('\n')).toEqual([
      'Federated credential added',
      `id:          ${id}`,
      `client_id:   ${client.client_id}`,
      `issuer:      ${platform.issuer}`,
      'subject:     system:serviceaccount:payments:worker',
      'audiences:   m2m-auth-e2e, https://auth.example',
      'claims:      kubernetes.io/namespace=payments',
      'description: the payments worker pod',
      expect.stringMatching(/^created: {5}\d{4}-\d\d-\d\dT/),
      '',
    ]);
    const list = await cli(['clients', 'federated', 'list', '--client', client.client_id, ...d]);
    expect(list.stdout).toMatch(/^ID\s+ISSUER\s+SUBJECT\s+AUDIENCES\s+CLAIMS\n/);
    expect(list.stdout).toContain(
      `${id}  ${platform.issuer}  system:serviceaccount:payments:worker  m2m-auth-e2e,https://auth.example  kubernetes.io/namespace=payments`,
    );

    // The running server sees the CLI's writes through the database; the token the workload's platform gave it is the whole credential.
    const missingClaim = await tokenWith(await platformToken('system:serviceaccount:payments:worker'));
    expect(missingClaim.status).toBe(401);
    const at = Math.floor(Date.now() / 1000);
    const claims = { sub: 'system:serviceaccount:payments:worker', aud: 'm2m-auth-e2e', iat: at, exp: at + 300, 'kubernetes.io/namespace': 'payments' };
    const granted = await tokenWith(await platform.sign({ ...claims, jti: randomUUID() }));
    expect(granted.status).toBe(200);
    expect(decodeJwt(granted.body.access_token!)).toMatchObject({ client_id: client.client_id, scope: 'payments:write' });

    const removed = await cli(['clients', 'federated', 'remove', '--client', client.client_id, '--id', id!, ...d]);
    expect(removed.stdout).toBe(`Federated credential ${id} of ${client.client_id} removed\n`);
    // Servers notice a write of another process within their revision check: wait for it, bounded.
    const deadline = Date.now() + 10_000;
    let after = await tokenWith(await platform.sign({ ...claims, jti: randomUUID() }));
    while (after.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await tokenWith(await platform.sign({ ...claims, jti: randomUUID() }));
    }
    expect(after).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    const events = await cliJson<{ type: string; data: Record<string, unknown> }[]>(['audit', 'list', '--limit', '3', ...d]);
    expect(events.map((event) => event.type)).toEqual(['client.federated_credential_removed', 'client.federated_credential_added', 'grant.created']);
    expect(events[0]!.data).toMatchObject({ credentialId: id, issuer: platform.issuer, subject: 'system:serviceaccount:payments:worker' });
  });

  it('keys from a file (a cluster JWKS, a SPIFFE bundle), changes, and an issuer in use removed only with --force', async () => {
    const bundle = file('bundle.json', {
      keys: [publicJwk('svid-1', 'jwt-svid'), publicJwk('svid-2', 'jwt-svid')],
      spiffe_sequence: 7,
      spiffe_refresh_hint: 300,
    });
    const spiffe = await cli(['issuers', 'add', '--issuer', 'spiffe://prod.example.org', '--kind', 'spiffe', '--jwks-file', bundle, ...d]);
    expect(spiffe.code).toBe(0);
    expect(spiffe.stdout).toMatch(
      /^Trusted issuer added\nissuer: {13}spiffe:\/\/prod\.example\.org\nkind: {15}spiffe\nkeys: {15}inline, 2 keys \(svid-1, svid-2\)\ntoken reuse: {8}allow\nmax token lifetime: 3600 s\nshared: {13}no\n/,
    );
    const shown = await cliJson<{ jwks: { keys: unknown[] } }>(['issuers', 'show', '--issuer', 'spiffe://prod.example.org', ...d]);
    // Only the keys are kept from a bundle.
    expect(Object.keys(shown.jwks)).toEqual(['keys']);

    const cluster = 'https://kubernetes.example/clusters/payments';
    await cliJson(['issuers', 'add', '--issuer', cluster, '--kind', 'kubernetes', '--jwks-file', file('cluster.json', { keys: [publicJwk('c1')] }), ...d]);
    const updated = await cliJson(['issuers', 'update', '--issuer', cluster, '--jwks-uri', `${cluster}/openid/v1/jwks`, '--shared', ...d]);
    expect(updated).toMatchObject({ jwks: null, jwks_uri: `${cluster}/openid/v1/jwks`, shared: true, token_reuse: 'allow' });
    const client = await cliJson<{ client_id: string }>(['clients', 'create', '--name', 'spiffe-workload', ...d]);
    const federate = ['clients', 'federated', 'add', '--client', client.client_id, ...d];
    await cliJson([...federate, '--issuer', 'spiffe://prod.example.org', '--subject', 'spiffe://prod.example.org/payments/api']);
    await cliJson([
      ...federate,
      '--issuer',
      cluster,
      '--subject',
      'system:serviceaccount:payments:',
      '--subject-match',
      'prefix',
      '--claim',
      'kubernetes.io/namespace=payments',
    ]);

    const list = await cli(['issuers', 'list', ...d]);
    expect(list.stdout).toContain(`${cluster}  kubernetes  ${cluster}/openid/v1/jwks`);
    expect(list.stdout).toMatch(/spiffe:\/\/prod\.example\.org\s+spiffe\s+inline, 2 keys \(svid-1, svid-2\)\s+allow\s+3600 s\s+no/);

    const inUse = await cli(['issuers', 'remove', '--issuer', cluster, '--json', ...d]);
    expect(inUse.code).toBe(1);
    expect(errorJsonOf(inUse)).toEqual({
      error: 'conflict',
      message: `Trusted issuer ${cluster} is named by 1 federated credential(s) of 1 client(s) (${client.client_id}): remove them first, or force the removal (--force, ?force=true) to remove them with it`,
    });
    expect((await cli(['issuers', 'remove', '--issuer', cluster, '--force', ...d])).stdout).toBe(`Trusted issuer ${cluster} removed\n`);
    const left = await cliJson<{ issuer: string }[]>(['clients', 'federated', 'list', '--client', client.client_id, ...d]);
    expect(left.map((credential) => credential.issuer)).toEqual(['spiffe://prod.example.org']);
  });

  it('refuses clearly: private or symmetric keys in a file, conflicting options, malformed claims, unsafe rules', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateFile = file('private.json', { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'oops' }] });
    const symmetricFile = file('symmetric.json', { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }] });
    const add = (...args: string[]) => cli(['issuers', 'add', '--issuer', 'https://ci.example', ...args, ...d]);
    // A key file is checked before any store is opened (no store line).
    expect((await add('--jwks-file', privateFile)).stderr).toBe(`error: --jwks-file ${privateFile}: jwks must contain public keys only\n`);
    expect(JSON.parse((await add('--jwks-file', symmetricFile, '--json')).stderr)).toEqual({
      error: 'validation_failed',
      message: `--jwks-file ${symmetricFile}: jwks must contain public keys only`,
      field: 'jwks',
    });
    expect((await add('--jwks-file', join(dataDir, 'missing.json'))).stderr).toMatch(/^error: --jwks-file .*missing\.json: ENOENT/);
    expect((await add('--jwks-file', privateFile, '--jwks-uri', 'https://ci.example/keys')).stderr).toContain(
      "option '--jwks-uri <url>' cannot be used with option '--jwks-file <path>'",
    );
    expect((await add('--shared', '--not-shared')).stderr).toContain('cannot be used with');
    expect((await add('--max-token-lifetime', 'a week')).stderr).toContain('--max-token-lifetime must be a duration');
    expect(errorOf(await add('--max-token-lifetime', '2d'))).toBe('error: max_token_lifetime_seconds must be a whole number of seconds from 60 to 86400\n');
    expect(errorOf(await cli(['issuers', 'add', '--issuer', 'http://ci.example', ...d]))).toBe(
      'error: issuer must use https (http only for a loopback host) (got "http://ci.example")\n',
    );
    expect((await cli(['issuers', 'update', '--issuer', 'https://ci.example', ...d])).stderr).toContain('nothing to change');

    await cliJson(['issuers', 'add', '--issuer', 'https://ci.example', '--jwks-file', file('ci.json', { keys: [publicJwk('ci-1')] }), ...d]);
    const client = await cliJson<{ client_id: string }>(['clients', 'create', '--name', 'ci-deployer', ...d]);
    const federate = (...args: string[]) => cli(['clients', 'federated', 'add', '--client', client.client_id, '--issuer', 'https://ci.example', ...args, ...d]);
    expect((await federate('--subject', 'job:deploy', '--claim', 'ref')).stderr).toContain('--claim must be NAME=VALUE');
    expect((await federate('--subject', 'job:deploy', '--claim', 'a=1', '--claim', 'a=2')).stderr).toContain('--claim a is given twice');
    expect((await federate('--subject', 'job:deploy', '--claim', 'sub=x')).stderr).toContain('claim sub cannot be a condition');
    expect((await federate('--subject', 'job:', '--subject-match', 'prefix')).stderr).toContain('at least 3 parts');
    expect((await federate('--subject', 'job:*')).stderr).toContain('a wildcard is not allowed');
    expect(errorOf(await cli(['clients', 'federated', 'remove', '--client', client.client_id, '--id', 'fed_nope', ...d]))).toBe(
      `error: Client ${client.client_id} has no federated credential fed_nope\n`,
    );
    expect(await cliJson<unknown[]>(['clients', 'federated', 'list', '--client', client.client_id, ...d])).toEqual([]);
  });
});
