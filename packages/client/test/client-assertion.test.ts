// Secretless client authentication: a platform token (a file the platform rotates, the GitHub
// Actions token service, a function) sent as an RFC 7523 client assertion to a loopback token
// endpoint; clocks are fakes, nothing asserts a duration.
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createTokenClient,
  fileAssertion,
  githubActionsAssertion,
  type ClientAssertionSource,
  type TokenClientEvent,
  type TokenClientOptions,
} from '../src/index.js';
import { createClock, startTokenServer, tokenAnswer, type Answer, type RecordedRequest } from './helpers.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A JWT-shaped platform token (the client never verifies it; the authorization server does). */
function platformToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${Buffer.from(`signature of ${JSON.stringify(claims)}`).toString('base64url')}`;
}

/** Which of the token service's tokens this is. */
const claimN = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).n;

async function setup(respond: (request: RecordedRequest, index: number) => Answer | Promise<Answer>, options: Partial<TokenClientOptions>) {
  const server = await startTokenServer(respond);
  const clock = createClock();
  const events: TokenClientEvent[] = [];
  const client = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    audience: 'https://payments.example',
    clock: clock.now,
    sleep: async () => undefined,
    backgroundRefresh: false,
    onEvent: (event) => events.push(event),
    ...options,
  });
  cleanups.push(
    () => server.close(),
    () => client.close(),
  );
  return { server, clock, client, events };
}

async function temporaryDirectory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'client-assertion-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The layout of a Kubernetes projected volume: `token` → `..data/token`, `..data` → a timestamped
 * directory. The kubelet rotates by writing a new directory and renaming a new `..data` link over
 * the old one (atomic), then removing the old directory.
 */
async function projectedVolume(firstToken: string) {
  const dir = await temporaryDirectory();
  let generation = 0;
  const publish = async (token: string) => {
    const previous = generation > 0 ? `..gen_${generation}` : undefined;
    generation += 1;
    await mkdir(join(dir, `..gen_${generation}`));
    await writeFile(join(dir, `..gen_${generation}`, 'token'), `${token}\n`);
    await symlink(`..gen_${generation}`, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    if (previous) await rm(join(dir, previous), { recursive: true });
  };
  await publish(firstToken);
  await symlink(join('..data', 'token'), join(dir, 'token'));
  return { path: join(dir, 'token'), rotate: publish };
}

describe('clientAssertion: the form the token endpoint receives', () => {
  it('sends jwt-bearer with client_id when configured, and no secret in the body or a header', async () => {
    const token = platformToken({ iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:shop:orders' });
    const { server, client } = await setup(() => tokenAnswer('access-1'), { clientId: 'orders-service', clientAssertion: { source: () => token } });
    await expect(client.getToken()).resolves.toMatchObject({ accessToken: 'access-1' });
    expect(server.requests[0]!.form).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://payments.example',
      client_id: 'orders-service',
      client_assertion_type: JWT_BEARER,
      client_assertion: token,
    });
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('leaves client_id out when none is configured, and sends jwt-spiffe for a JWT-SVID', async () => {
    const svid = platformToken({ sub: 'spiffe://example.org/ns/shop/sa/orders' });
    const { server, client } = await setup(() => tokenAnswer('access-1'), { clientAssertion: { source: async () => svid, type: 'jwt-spiffe' } });
    await client.getToken();
    expect(server.requests[0]!.form).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://payments.example',
      client_assertion_type: JWT_SPIFFE,
      client_assertion: svid,
    });
  });

  it('asks a function source for each token request (it may return a newer token each time)', async () => {
    let calls = 0;
    const { server, client } = await setup(() => tokenAnswer('access'), { clientAssertion: { source: async () => ` platform-token-${++calls}\n` } });
    await client.getToken();
    await client.getToken({ audience: 'https://inventory.example' });
    expect(server.requests.map((r) => r.form.client_assertion)).toEqual(['platform-token-1', 'platform-token-2']);
  });

  it('reads a source object once more after invalid_client, then retries once', async () => {
    const tokens = ['rotated-away', 'current', 'never-read'];
    let reads = 0;
    let forgets = 0;
    const source: ClientAssertionSource = { read: () => tokens[reads++]!, forget: () => void forgets++ };
    const { server, client } = await setup(
      (request) => (request.form.client_assertion === 'current' ? tokenAnswer('access-1') : { status: 401, body: { error: 'invalid_client' } }),
      { clientAssertion: { source } },
    );
    await expect(client.getToken()).resolves.toMatchObject({ accessToken: 'access-1' });
    expect(server.requests.map((r) => r.form.client_assertion)).toEqual(['rotated-away', 'current']);
    expect(forgets).toBe(1);
  });
});

describe('fileAssertion', () => {
  it('picks up a Kubernetes-style rotation (a ..data symlink swap) on the next token request', async () => {
    const volume = await projectedVolume(platformToken({ sub: 'orders', n: 1 }));
    const { server, client } = await setup(() => tokenAnswer(`access-${server.requests.length}`), { clientAssertion: { source: fileAssertion(volume.path) } });
    const first = await client.getToken();
    await volume.rotate(platformToken({ sub: 'orders', n: 2 }));
    client.invalidate(first.accessToken); // the next getToken fetches
    await client.getToken();
    expect(server.requests.map((r) => r.form.client_assertion)).toEqual([platformToken({ sub: 'orders', n: 1 }), platformToken({ sub: 'orders', n: 2 })]);
  });

  it('picks up a file rewritten in place (a SPIFFE helper), trimmed', async () => {
    const path = join(await temporaryDirectory(), 'jwt_svid.token');
    await writeFile(path, 'svid-one\n');
    const { server, client } = await setup(() => tokenAnswer(`access-${server.requests.length}`), {
      clientAssertion: { source: fileAssertion(path), type: 'jwt-spiffe' },
    });
    const first = await client.getToken();
    await client.getToken({ audience: 'https://inventory.example' }); // unchanged: the same token again
    await writeFile(path, '  svid-two-a-longer-one \n');
    client.invalidate(first.accessToken);
    await client.getToken();
    expect(server.requests.map((r) => r.form.client_assertion)).toEqual(['svid-one', 'svid-one', 'svid-two-a-longer-one']);
  });

  it('a missing or empty file is a configuration_error naming the path, never the token', async () => {
    const dir = await temporaryDirectory();
    const path = join(dir, 'token');
    const { server, client } = await setup(() => tokenAnswer('access'), { clientAssertion: { source: fileAssertion(path) } });
    await expect(client.getToken()).rejects.toMatchObject({
      code: 'configuration_error',
      message: `client authentication could not be prepared: the client assertion file ${path} could not be read (ENOENT)`,
    });
    await writeFile(path, ' \n');
    await expect(client.getToken()).rejects.toMatchObject({
      code: 'configuration_error',
      message: `client authentication could not be prepared: the client assertion file ${path} is empty`,
    });
    await writeFile(path, 'the-platform-token');
    const first = await client.getToken();
    await rm(path);
    client.invalidate(first.accessToken);
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'configuration_error' });
    expect(`${String(error)} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain('the-platform-token');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a path that is not a non-empty string when it is made', () => {
    expect(() => fileAssertion('')).toThrowError(
      expect.objectContaining({ code: 'configuration_error', message: 'fileAssertion: path must be a non-empty string (got an empty string).' }),
    );
    expect(() => fileAssertion(undefined as never)).toThrowError(
      expect.objectContaining({ message: 'fileAssertion: path is required: where the platform writes the token.' }),
    );
  });
});

describe('githubActionsAssertion', () => {
  const REQUEST_TOKEN = 'actions-request-token-value';

  /** A loopback stand-in for the runner's token service, minting tokens that expire 5 minutes after the clock's now. */
  async function tokenService(clock: { now: () => number }, answer?: () => Answer) {
    const service = await startTokenServer(
      (_request, index) => answer?.() ?? { status: 200, body: { value: platformToken({ n: index + 1, exp: Math.floor(clock.now() / 1000) + 300 }) } },
    );
    cleanups.push(() => service.close());
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', `${service.base}/idtoken?api-version=2.0`);
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', REQUEST_TOKEN);
    return service;
  }

  it('with reuse: true asks the token service for the audience with the request token, and reuses the token until a minute before its exp', async () => {
    const clock = createClock();
    const service = await tokenService(clock);
    const source = githubActionsAssertion({ audience: 'https://auth.internal.example', reuse: true, clock: clock.now });
    const { server, client } = await setup(() => tokenAnswer(`access-${server.requests.length}`), {
      clientId: 'ci-deployer',
      clientAssertion: { source },
      clock: clock.now,
    });
    await Promise.all([client.getToken(), client.getToken({ audience: 'https://inventory.example' })]);
    expect(service.requests).toHaveLength(1);
    expect(service.requests[0]).toMatchObject({ method: 'GET', path: '/idtoken?api-version=2.0&audience=https%3A%2F%2Fauth.internal.example' });
    expect(service.requests[0]!.headers.authorization).toBe(`Bearer ${REQUEST_TOKEN}`);

    clock.advance(239_000); // 61 s left: still reused
    await client.getToken({ audience: 'https://shipping.example' });
    clock.advance(2_000); // 59 s left: a new one
    await client.getToken({ audience: 'https://billing.example' });
    expect(service.requests).toHaveLength(2);
    expect(server.requests.map((r) => claimN(r.form.client_assertion!))).toEqual([1, 1, 1, 2]);
    expect(server.requests.every((r) => r.form.client_assertion_type === JWT_BEARER && r.form.client_id === 'ci-deployer')).toBe(true);
  });

  it('after invalid_client (a server that refuses a replayed token) asks the service for a new one and retries once', async () => {
    const clock = createClock();
    const service = await tokenService(clock);
    const seen = new Set<string>();
    const { server, client } = await setup(
      (request) => {
        const assertion = request.form.client_assertion!;
        if (seen.has(assertion)) return { status: 401, body: { error: 'invalid_client', error_description: 'client_assertion was already used' } };
        seen.add(assertion);
        return tokenAnswer('access');
      },
      { clientAssertion: { source: githubActionsAssertion({ audience: 'm2m-auth', reuse: true, clock: clock.now }) }, clock: clock.now },
    );
    await client.getToken();
    await client.getToken({ audience: 'https://inventory.example' });
    // The second entry sent the reused job token, was refused, and sent a new one.
    expect(server.requests.map((r) => claimN(r.form.client_assertion!))).toEqual([1, 1, 2]);
    expect(service.requests).toHaveLength(2);
  });

  it('by default asks the service for each token request (GitHub mints one per request; a jti check refuses a reused one)', async () => {
    const clock = createClock();
    const service = await tokenService(clock);
    const { client } = await setup(() => tokenAnswer('access'), {
      clientAssertion: { source: githubActionsAssertion({ audience: 'm2m-auth', clock: clock.now }) },
    });
    await client.getToken();
    await client.getToken({ audience: 'https://inventory.example' });
    expect(service.requests).toHaveLength(2);
  });

  it('a failing token service is an error that quotes neither its answer nor the request token', async () => {
    const clock = createClock();
    await tokenService(clock, () => ({ status: 500, body: { message: `bad request token ${REQUEST_TOKEN}` } }));
    const events: TokenClientEvent[] = [];
    const { server, client } = await setup(() => tokenAnswer('access'), {
      clientAssertion: { source: githubActionsAssertion({ audience: 'm2m-auth' }) },
      onEvent: (event) => events.push(event),
    });
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'configuration_error',
      message: 'client authentication could not be prepared: the GitHub Actions token service answered 500',
    });
    expect(`${inspect(error)} ${JSON.stringify(events)}`).not.toContain(REQUEST_TOKEN);
    expect(server.requests).toHaveLength(0);
  });

  it('outside a GitHub Actions job (no request URL and token) it fails when made, naming the permission', () => {
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', '');
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', '');
    expect(() => githubActionsAssertion({ audience: 'm2m-auth' })).toThrowError(
      expect.objectContaining({
        code: 'configuration_error',
        message:
          'githubActionsAssertion: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: run in a GitHub Actions job with `permissions: id-token: write`.',
      }),
    );
    expect(() => githubActionsAssertion({} as never)).toThrowError(
      expect.objectContaining({ message: 'githubActionsAssertion: audience is required: the aud the authorization server expects.' }),
    );
  });

  it('keeps the request token and the job token out of inspect and JSON output of the source and the client', async () => {
    const clock = createClock();
    await tokenService(clock);
    const source = githubActionsAssertion({ audience: 'm2m-auth', clock: clock.now });
    const jobToken = await source.read();
    const { client } = await setup(() => tokenAnswer('access'), { clientAssertion: { source }, clock: clock.now });
    await client.getToken();
    const shown = `${inspect(source, { depth: 5 })} ${JSON.stringify(source)} ${inspect(client, { depth: 5 })} ${JSON.stringify(client)}`;
    expect(shown).not.toContain(REQUEST_TOKEN);
    expect(shown).not.toContain(jobToken);
  });
});

describe('the platform token never appears in errors or events', () => {
  it('an error_description that echoes the assertion is redacted', async () => {
    const token = platformToken({ sub: 'system:serviceaccount:shop:orders' });
    const { client, events } = await setup(
      (request) => ({ status: 401, body: { error: 'invalid_client', error_description: `no trusted issuer for ${request.form.client_assertion}` } }),
      { clientAssertion: { source: () => token } },
    );
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'oauth_error', error: 'invalid_client', errorDescription: 'no trusted issuer for [redacted]' });
    expect(`${String(error)} ${inspect(error)} ${JSON.stringify(error)} ${JSON.stringify(events)}`).not.toContain(token);
  });
});

describe('clientAssertion options are checked at set-up', () => {
  const base = { tokenEndpoint: 'https://auth.example/token' };
  const cases: Array<[string, unknown, string]> = [
    [
      'alongside a secret',
      { ...base, clientId: 'x', clientSecret: 's', clientAssertion: { source: () => 't' } },
      'createTokenClient: clientAssertion is the whole credential: leave out clientSecret.',
    ],
    [
      'alongside authMethod and assertionAlg',
      { ...base, authMethod: 'private_key_jwt', assertionAlg: 'ES256', clientAssertion: { source: () => 't' } },
      'createTokenClient: clientAssertion is the whole credential: leave out assertionAlg, authMethod.',
    ],
    [
      'a source that is a string',
      { ...base, clientAssertion: { source: '/var/run/secrets/token' } },
      'createTokenClient: clientAssertion.source must be fileAssertion(path), githubActionsAssertion({ audience }), an object with read() or a function returning the token (got a string).',
    ],
    [
      'an unknown type',
      { ...base, clientAssertion: { source: () => 't', type: 'saml2-bearer' } },
      "createTokenClient: clientAssertion.type must be one of 'jwt-bearer', 'jwt-spiffe' (got another string).",
    ],
    [
      'a typo',
      { ...base, clientAssertion: { source: () => 't', typ: 'jwt-bearer' } },
      'createTokenClient: clientAssertion has unknown option "typ" (known: source, type).',
    ],
  ];
  for (const [name, options, message] of cases) {
    it(name, () => {
      expect(() => createTokenClient(options as TokenClientOptions)).toThrowError(expect.objectContaining({ code: 'configuration_error', message }));
    });
  }

  it('needs no clientId and no secret', () => {
    expect(() => createTokenClient({ ...base, clientAssertion: { source: () => 't' } })).not.toThrow();
  });
});
