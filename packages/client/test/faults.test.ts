/**
 * Fault tests: the authorization server goes down (connection refused, 503, no answer at all)
 * after the client got a token from a real loopback server. The cached token keeps being served
 * until it expires; after that, callers get a clear provider_unavailable error — never a hang,
 * never an expired token. Retries sleep through an injected fake; nothing asserts a duration.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenClient, isTokenClientError, type TokenClientEvent, type TokenClientOptions } from '../src/index.js';
import { createClock, startTokenServer, tokenAnswer, type Answer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SECRET = 'fault-test-secret-value';

async function setup(respond: () => Answer | Promise<Answer>, options: Partial<TokenClientOptions> = {}) {
  const server = await startTokenServer(respond);
  const clock = createClock();
  const events: TokenClientEvent[] = [];
  const client = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'orders-service',
    clientSecret: SECRET,
    audience: 'https://payments.example',
    clock: clock.now,
    sleep: async () => undefined,
    retry: { maxAttempts: 3 },
    timeoutMs: 2000,
    backgroundRefresh: false,
    onEvent: (event) => events.push(event),
    ...options,
  });
  cleanups.push(() => client.close());
  return { server, clock, client, events };
}

/** Waits (bounded) until the background refresh has reported its failure, so the next call does not join it. */
async function untilRefreshFailed(events: TokenClientEvent[], count = 1) {
  for (let i = 0; i < 250 && events.filter((e) => e.type === 'token.refresh_failed').length < count; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(events.filter((e) => e.type === 'token.refresh_failed')).toHaveLength(count);
}

/** The error a rejected getToken() gave, or a failure when it resolved. */
async function failureOf(pending: Promise<unknown>) {
  return pending.then(
    () => expect.fail('getToken() resolved while the provider is down and the token expired'),
    (error: unknown) => error,
  );
}

describe('authorization server down: the client SDK', () => {
  it('connection refused: the cached token keeps serving until it expires, then a clear provider_unavailable', async () => {
    const { server, clock, client, events } = await setup(() => tokenAnswer('token-1', 900));
    const first = await client.getToken();
    await server.close();

    clock.advance(800_000); // past the refresh point (~720 s): a background refresh is attempted and fails
    expect((await client.getToken()).accessToken).toBe('token-1');
    await untilRefreshFailed(events);
    clock.advance(99_000); // 1 s before expiry, inside the expiry margin: the caller waits for a refresh, which fails, and gets the still-valid token
    expect((await client.getToken()).accessToken).toBe('token-1');
    expect(events.filter((e) => e.type === 'token.stale_served')).toEqual([
      { type: 'token.stale_served', cacheKeyHash: expect.any(String), expiresAt: first.expiresAt },
    ]);

    clock.advance(1_000); // expired
    const error = await failureOf(client.getToken());
    expect(isTokenClientError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'provider_unavailable', attempts: 3 });
    expect((error as Error).message).toMatch(/^token endpoint unreachable: /);
    expect(JSON.stringify(events) + String(error) + (error as Error).message).not.toContain(SECRET);
    expect(first.expiresAt).toBeLessThanOrEqual(clock.now()); // the token it would have served is indeed expired
  });

  it('503 from the token endpoint: served from cache until expiry, then provider_unavailable with the status', async () => {
    let down = false;
    const { clock, client, server, events } = await setup(() =>
      down ? { status: 503, body: { error: 'temporarily_unavailable' }, headers: { 'retry-after': '1' } } : tokenAnswer('token-1', 600),
    );
    await client.getToken();
    down = true;
    clock.advance(550_000);
    expect((await client.getToken()).accessToken).toBe('token-1');
    await untilRefreshFailed(events);
    clock.advance(50_000);
    const error = await failureOf(client.getToken());
    expect(error).toMatchObject({ name: 'TokenClientError', code: 'provider_unavailable', status: 503, error: 'temporarily_unavailable', attempts: 3 });
    expect((error as Error).message).toBe('token endpoint answered 503 temporarily_unavailable');
    expect(server.requests.length).toBe(1 + 3 + 3); // the first token, then each failed refresh with its retries
  });

  it('a token endpoint that never answers: each attempt times out, and the caller gets an error, not a hang', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          silent.closeAllConnections();
          silent.close(() => resolve());
        }),
    );
    const { client } = await setup(() => tokenAnswer('unused'), {
      tokenEndpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`,
      timeoutMs: 200,
      retry: { maxAttempts: 2 },
    });
    const error = await failureOf(client.getToken());
    expect(error).toMatchObject({ code: 'provider_unavailable', attempts: 2, message: 'token endpoint unreachable: timed out after 200 ms' });
  });

  it('the issuer down at the first call: discovery_failed naming the issuer, and the next call retries discovery', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve())); // nothing listens there now
    const client = createTokenClient({ issuer, clientId: 'orders-service', clientSecret: SECRET, timeoutMs: 2000, backgroundRefresh: false });
    cleanups.push(() => client.close());
    const error = await failureOf(client.getToken());
    expect(error).toMatchObject({ name: 'TokenClientError', code: 'discovery_failed' });
    expect((error as Error).message).toMatch(
      new RegExp(`^discovery failed for ${issuer} \\(/\\.well-known/oauth-authorization-server: .*; /\\.well-known/openid-configuration: .*\\)$`),
    );
    const again = await failureOf(client.getToken());
    expect(again).toMatchObject({ code: 'discovery_failed' });
  });
});
