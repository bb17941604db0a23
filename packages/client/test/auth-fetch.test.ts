import { afterEach, describe, expect, it } from 'vitest';
import { createAuthFetch, createTokenClient } from '../src/index.js';
import { createClock, startProtectedApi, startTokenServer, tokenAnswer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startApi(rule: Parameters<typeof startProtectedApi>[0]) {
  const api = await startProtectedApi(rule);
  cleanups.push(() => api.close());
  return api;
}

async function setup() {
  let n = 0;
  const tokens = await startTokenServer(() => tokenAnswer(`token-${++n}`));
  const client = createTokenClient({ tokenEndpoint: tokens.tokenEndpoint, clientId: 'c', clientSecret: 's', clock: createClock().now });
  cleanups.push(
    () => tokens.close(),
    () => client.close(),
  );
  return { tokens, client };
}

describe('createAuthFetch', () => {
  it('adds Authorization: Bearer and keeps the caller’s own headers', async () => {
    const { client } = await setup();
    const api = await startApi(() => ({ status: 200 }));
    const response = await createAuthFetch(client)(`${api.url}/things`, { headers: { 'x-request-id': '42' } });
    expect(response.status).toBe(200);
    expect(api.seen[0]!.token).toBe('token-1');
  });

  it('on 401 invalid_token: drops the token, fetches one new token and retries exactly once', async () => {
    const { client, tokens } = await setup();
    const api = await startApi((token) => (token === 'token-1' ? { status: 401, challenge: 'Bearer realm="api", error="invalid_token"' } : { status: 200 }));
    const response = await createAuthFetch(client)(`${api.url}/things`, { method: 'POST', body: 'payload' });
    expect(response.status).toBe(200);
    expect(tokens.requests).toHaveLength(2);
    expect(api.seen).toEqual([
      { token: 'token-1', body: 'payload' },
      { token: 'token-2', body: 'payload' },
    ]);
  });

  it('retries once only: a second 401 is returned to the caller', async () => {
    const { client, tokens } = await setup();
    const api = await startApi(() => ({ status: 401, challenge: 'Bearer error="invalid_token"' }));
    expect((await createAuthFetch(client)(`${api.url}/things`)).status).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokens.requests).toHaveLength(2);
  });

  it('does not retry a 403 insufficient_scope, nor a 401 for another reason', async () => {
    const { client, tokens } = await setup();
    const forbidden = await startApi(() => ({ status: 403, challenge: 'Bearer error="insufficient_scope", scope="admin"' }));
    expect((await createAuthFetch(client)(`${forbidden.url}/x`)).status).toBe(403);
    const malformed = await startApi(() => ({ status: 401, challenge: 'Bearer error="invalid_request"' }));
    expect((await createAuthFetch(client)(`${malformed.url}/x`)).status).toBe(401);
    expect(forbidden.seen).toHaveLength(1);
    expect(malformed.seen).toHaveLength(1);
    expect(tokens.requests).toHaveLength(1);
  });

  it('does not retry when the body is a stream that cannot be sent twice', async () => {
    const { client } = await setup();
    const api = await startApi(() => ({ status: 401, challenge: 'Bearer error="invalid_token"' }));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await createAuthFetch(client)(`${api.url}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(401);
    expect(api.seen).toHaveLength(1);
  });
});
