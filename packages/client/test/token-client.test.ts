import { afterEach, describe, expect, it } from 'vitest';
import { createTokenClient, isOAuthError, isTokenClientError, type TokenClientEvent, type TokenClientOptions } from '../src/index.js';
import { basicCredentials, createClock, deferred, startTokenServer, tokenAnswer, type Answer, type RecordedRequest } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(respond: (request: RecordedRequest, index: number) => Answer | Promise<Answer>, options: Partial<TokenClientOptions> = {}) {
  const server = await startTokenServer(respond);
  const clock = createClock();
  const events: TokenClientEvent[] = [];
  const sleeps: number[] = [];
  const client = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'orders-service',
    clientSecret: 's3cret',
    audience: 'https://payments.example',
    clock: clock.now,
    sleep: async (ms) => void sleeps.push(ms),
    onEvent: (event) => events.push(event),
    ...options,
  });
  cleanups.push(
    () => server.close(),
    () => client.close(),
  );
  return { server, clock, client, events, sleeps };
}

describe('createTokenClient', () => {
  it('1,000 concurrent getToken calls cause exactly one token request', async () => {
    const { server, client } = await setup(() => tokenAnswer('token-1'));
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => client.getToken()));
    expect(server.requests).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['token-1']));
  });

  it('sends a client_credentials request with Basic auth, audience and sorted scopes, and caches the answer', async () => {
    const { server, client, clock } = await setup(() => tokenAnswer('token-1', 900, 'a b'), { scope: 'b a' });
    const token = await client.getToken();
    expect(token).toMatchObject({ accessToken: 'token-1', tokenType: 'Bearer', scope: 'a b', expiresAt: clock.now() + 900_000 });
    expect(server.requests[0]!.form).toEqual({ grant_type: 'client_credentials', audience: 'https://payments.example', scope: 'a b' });
    expect(basicCredentials(server.requests[0]!.headers.authorization)).toEqual({ id: 'orders-service', secret: 's3cret' });
    clock.advance(600_000);
    await client.getToken();
    expect(server.requests).toHaveLength(1);
  });

  it('keeps one cache entry per audience and scope set', async () => {
    let n = 0;
    const { server, client } = await setup(() => tokenAnswer(`token-${++n}`));
    const payments = client.for({ audience: 'https://payments.example', scope: 'payments:read' });
    const inventory = client.for({ audience: 'https://inventory.example', scope: 'inventory:read' });
    const [a, b] = await Promise.all([payments.getToken(), inventory.getToken()]);
    expect(a.accessToken).not.toBe(b.accessToken);
    expect((await client.getToken({ scope: ['payments:read'], audience: 'https://payments.example' })).accessToken).toBe(a.accessToken);
    expect(server.requests.map((r) => r.form.audience).sort()).toEqual(['https://inventory.example', 'https://payments.example']);
  });

  it('refreshes ahead of expiry in the background: no caller waits', async () => {
    const held = deferred<Answer>();
    const { server, client, clock, events } = await setup((_r, i) => (i === 0 ? tokenAnswer('old', 300) : held.promise), { random: () => 0 });
    await client.getToken();
    clock.advance(241_000); // 59 s left: inside the 60 s refresh window
    const during = await client.getToken();
    expect(during.accessToken).toBe('old'); // answered at once while the refresh is held back
    await waitFor(() => server.requests.length === 2);
    held.resolve(tokenAnswer('new', 300));
    await waitFor(() => events.some((e) => e.type === 'token.fetched' && e.expiresAt > clock.now() + 200_000));
    expect((await client.getToken()).accessToken).toBe('new');
  });

  it('retries 503 with backoff and recovers', async () => {
    const { server, client, events, sleeps } = await setup((_r, i) =>
      i < 2 ? { status: 503, body: { error: 'temporarily_unavailable' } } : tokenAnswer('token-1'),
    );
    expect((await client.getToken()).accessToken).toBe('token-1');
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(events.filter((e) => e.type === 'token.retry').map((e) => (e as { reason: string }).reason)).toEqual(['HTTP 503', 'HTTP 503']);
  });

  it('honours Retry-After on 429', async () => {
    const { client, sleeps } = await setup((_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '7' }, body: {} } : tokenAnswer('token-1')));
    await client.getToken();
    expect(sleeps).toEqual([7000]);
  });

  it('gives up after the attempt budget with a typed error', async () => {
    const { server, client } = await setup(() => ({ status: 500, body: {} }), { retry: { maxAttempts: 3 } });
    const error = await client.getToken().catch((e: unknown) => e);
    expect(isTokenClientError(error) && error.code).toBe('provider_unavailable');
    expect(server.requests).toHaveLength(3);
  });

  it('serves the cached token while the provider is down, and a typed error once it expires', async () => {
    const { client, clock, events } = await setup((_r, i) => (i === 0 ? tokenAnswer('token-1', 300) : { status: 503, body: {} }), {
      retry: { maxAttempts: 1 },
    });
    await client.getToken();
    clock.advance(280_000); // inside the refresh window: served at once, refreshed in the background
    expect((await client.getToken()).accessToken).toBe('token-1');
    await waitFor(() => events.some((e) => e.type === 'token.refresh_failed'));
    clock.advance(17_000); // 3 s left, inside the expiry margin: a caller now waits for a fetch, which fails
    expect((await client.getToken()).accessToken).toBe('token-1');
    expect(events.map((e) => e.type)).toContain('token.stale_served');
    clock.advance(5_000); // expired
    const error = await client.getToken().catch((e: unknown) => e);
    expect(isTokenClientError(error) && error.code).toBe('provider_unavailable');
  });

  it('does not retry invalid_client, invalid_scope or unauthorized_client', async () => {
    for (const oauthError of ['invalid_client', 'invalid_scope', 'unauthorized_client']) {
      const { server, client } = await setup(() => ({
        status: oauthError === 'invalid_client' ? 401 : 400,
        body: { error: oauthError, error_description: `no (${oauthError})` },
      }));
      const error = await client.getToken().catch((e: unknown) => e);
      expect(isOAuthError(error, oauthError)).toBe(true);
      expect(error).toMatchObject({ code: 'oauth_error', error: oauthError, errorDescription: `no (${oauthError})` });
      expect(server.requests).toHaveLength(1);
    }
  });

  it('re-reads a secret from its source once after invalid_client (rotation without restart)', async () => {
    const secrets = ['old-secret', 'new-secret', 'never-read'];
    let reads = 0;
    const { server, client } = await setup(
      (request) =>
        basicCredentials(request.headers.authorization).secret === 'new-secret' ? tokenAnswer('token-1') : { status: 401, body: { error: 'invalid_client' } },
      { clientSecret: async () => secrets[reads++]! },
    );
    await expect(client.getToken()).resolves.toMatchObject({ accessToken: 'token-1' });
    expect(reads).toBe(2);
    expect(server.requests.map((r) => basicCredentials(r.headers.authorization).secret)).toEqual(['old-secret', 'new-secret']);
  });

  it('surfaces invalid_client after the one re-read when the new secret is refused too', async () => {
    let reads = 0;
    const { server, client } = await setup(() => ({ status: 401, body: { error: 'invalid_client' } }), { clientSecret: async () => `secret-${reads++}` });
    await expect(client.getToken()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_client' });
    expect(server.requests).toHaveLength(2);
  });

  it('invalidate drops a token only while it is still the cached one', async () => {
    let n = 0;
    const { server, client } = await setup(() => tokenAnswer(`token-${++n}`));
    const first = await client.getToken();
    expect(client.invalidate(first.accessToken)).toBe(true);
    const second = await client.getToken();
    expect(second.accessToken).toBe('token-2');
    expect(client.invalidate(first.accessToken)).toBe(false); // a late 401 for the old token
    expect((await client.getToken()).accessToken).toBe('token-2');
    expect(server.requests).toHaveLength(2);
  });

  it('refuses http: token endpoints off loopback', () => {
    expect(() => createTokenClient({ tokenEndpoint: 'http://auth.example/token', clientId: 'x', clientSecret: 'y' })).toThrowError(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() => createTokenClient({ tokenEndpoint: 'http://127.0.0.1:1/token', clientId: 'x', clientSecret: 'y' })).not.toThrow();
  });

  it('uses client_secret_post when asked', async () => {
    const { server, client } = await setup(() => tokenAnswer('t'), { authMethod: 'client_secret_post' });
    await client.getToken();
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    expect(server.requests[0]!.form).toMatchObject({ client_id: 'orders-service', client_secret: 's3cret' });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}
