import { Readable } from 'node:stream';
import axios, { AxiosError } from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenClient } from '../src/index.js';
import { useBearerAuth } from '../src/axios.js';
import { createClock, startProtectedApi, startTokenServer, tokenAnswer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(rule: Parameters<typeof startProtectedApi>[0]) {
  let n = 0;
  const tokens = await startTokenServer(() => tokenAnswer(`token-${++n}`));
  const client = createTokenClient({ tokenEndpoint: tokens.tokenEndpoint, clientId: 'c', clientSecret: 's', clock: createClock().now });
  const api = await startProtectedApi(rule);
  const http = axios.create({ baseURL: api.url });
  const remove = useBearerAuth(http, client);
  cleanups.push(
    () => tokens.close(),
    () => client.close(),
    () => api.close(),
  );
  return { tokens, api, http, remove };
}

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    (response) => (response as { status: number }).status,
    (error: unknown) => (error instanceof AxiosError ? error.response?.status : Promise.reject(error)),
  );

describe('@m2m-auth/client/axios', () => {
  it('adds Authorization: Bearer and keeps the caller’s own headers', async () => {
    const { http, api } = await setup(() => ({ status: 200 }));
    const response = await http.get('/things', { headers: { 'x-request-id': '42' } });
    expect(response.status).toBe(200);
    expect(api.seen[0]!.token).toBe('token-1');
  });

  it('on 401 invalid_token: drops the token, fetches one new token and retries exactly once with the same body', async () => {
    const { http, api, tokens } = await setup((token) =>
      token === 'token-1' ? { status: 401, challenge: 'Bearer realm="api", error="invalid_token"' } : { status: 200 },
    );
    const response = await http.post('/things', { amount: 5 });
    expect(response.status).toBe(200);
    expect(tokens.requests).toHaveLength(2);
    expect(api.seen).toEqual([
      { token: 'token-1', body: '{"amount":5}' },
      { token: 'token-2', body: '{"amount":5}' },
    ]);
  });

  it('retries once only: a second 401 reaches the caller', async () => {
    const { http, api, tokens } = await setup(() => ({ status: 401, challenge: 'Bearer error="invalid_token"' }));
    expect(await statusOf(http.get('/things'))).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokens.requests).toHaveLength(2);
  });

  it('does not retry a 403 insufficient_scope, a 401 for another reason, or a streamed body', async () => {
    const { http, api, tokens } = await setup((_token, call) =>
      call === 1 ? { status: 403, challenge: 'Bearer error="insufficient_scope", scope="admin"' } : { status: 401, challenge: 'Bearer error="invalid_token"' },
    );
    expect(await statusOf(http.get('/admin'))).toBe(403);
    expect(await statusOf(http.post('/upload', Readable.from(['streamed'])))).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokens.requests).toHaveLength(1);
  });

  it('the returned function removes the interceptors', async () => {
    const { http, api, remove } = await setup(() => ({ status: 200 }));
    remove();
    await http.get('/things');
    expect(api.seen[0]!.token).toBeUndefined();
  });
});
