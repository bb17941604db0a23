// The token client's modules on their own: cache, single flight, retry, refresh-ahead — no
// token endpoint, fake clocks and sleeps.
import { describe, expect, it } from 'vitest';
import { AccessToken } from '../src/access-token.js';
import { TokenClientError } from '../src/errors.js';
import type { TokenClientEvent } from '../src/events.js';
import { createRefreshAhead, type RefreshAheadPolicy } from '../src/refresh-ahead.js';
import { DEFAULT_RETRY, withRetry, type AttemptOutcome } from '../src/retry.js';
import { startFlight } from '../src/single-flight.js';
import { createTokenCache, invalidateEntry, usableToken } from '../src/token-cache.js';

const defaults = {
  endpoint: 'https://as.example/token',
  clientId: 'orders',
  scope: undefined,
  audience: 'https://payments.example',
  resource: undefined,
  extraParams: undefined,
};

describe('token cache', () => {
  it('files the same scopes in any order under one entry, and another audience under another', () => {
    const cache = createTokenCache(defaults);
    expect(cache.entryFor({ scope: 'b a a' })).toBe(cache.entryFor({ scope: ['a', 'b'] }));
    expect(cache.entryFor({ scope: 'a b', audience: 'https://inventory.example' })).not.toBe(cache.entryFor({ scope: 'a b' }));
    expect(cache.size).toBe(2);
  });

  it('invalidates only the token it holds', () => {
    const events: TokenClientEvent[] = [];
    const entry = createTokenCache(defaults).entryFor({});
    const token = new AccessToken('current', 'Bearer', 10_000, undefined);
    Object.assign(entry, { token, resolved: Promise.resolve(token), usableUntil: 9_000 });
    expect(usableToken(entry, 1_000)).toBe(entry.resolved);
    expect(invalidateEntry(entry, 'an-older-one', (e) => events.push(e))).toBe(false);
    expect(invalidateEntry(entry, 'current', (e) => events.push(e))).toBe(true);
    expect(usableToken(entry, 1_000)).toBeUndefined();
    expect(events).toEqual([{ type: 'token.invalidated', cacheKeyHash: entry.hash }]);
  });
});

describe('single flight', () => {
  it('keeps the request in the slot until it settles', async () => {
    const slot: { inFlight: Promise<number> | undefined } = { inFlight: undefined };
    let finish!: (value: number) => void;
    const pending = startFlight(slot, () => new Promise<number>((resolve) => (finish = resolve)));
    expect(slot.inFlight).toBe(pending);
    finish(7);
    await expect(pending).resolves.toBe(7);
    expect(slot.inFlight).toBeUndefined();
  });
});

describe('retry', () => {
  const deps = (delays: number[]) => ({
    now: () => 0,
    sleep: async (ms: number) => void delays.push(ms),
    random: () => 1,
    retry: DEFAULT_RETRY,
    onRetry: () => undefined,
  });
  const down = (retryable: boolean, retryAfterMs?: number): AttemptOutcome<{ value: number }> => ({
    ok: false,
    retryable,
    error: new TokenClientError('provider_unavailable', 'down'),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

  it('backs off exponentially, honours Retry-After, and counts the attempts', async () => {
    const delays: number[] = [];
    const outcomes = [down(true), down(true, 5_000), { ok: true as const, value: { value: 1 } }];
    await expect(withRetry(async (attempt) => outcomes[attempt - 1]!, deps(delays))).resolves.toEqual({ value: 1, attempts: 3 });
    expect(delays).toEqual([200, 5_000]);
  });

  it('gives up at once on what a retry cannot fix, and after maxAttempts otherwise', async () => {
    let attempts = 0;
    await expect(withRetry(async () => (attempts++, down(false)), deps([]))).rejects.toThrow('down');
    expect(attempts).toBe(1);
    await expect(withRetry(async () => (attempts++, down(true)), deps([]))).rejects.toThrow('down');
    expect(attempts).toBe(1 + DEFAULT_RETRY.maxAttempts);
  });
});

describe('refresh-ahead', () => {
  const policy = (now: () => number, events: TokenClientEvent[] = []): RefreshAheadPolicy => ({
    minSeconds: 60,
    fraction: 0.2,
    jitterFraction: 0,
    marginMs: 5_000,
    background: false,
    now,
    random: () => 0,
    emit: (e) => events.push(e),
    isClosed: () => false,
    refresh: () => undefined,
  });

  it('refreshes max(60 s, 20 %) before expiry and stops handing a token out in its last seconds', () => {
    const entry = createTokenCache(defaults).entryFor({});
    const ahead = createRefreshAhead(policy(() => 0));
    ahead.store(entry, new AccessToken('t', 'Bearer', 3_600_000, undefined));
    expect(entry.refreshAt).toBe(3_600_000 - 720_000);
    expect(entry.usableUntil).toBe(3_600_000 - 5_000);
    expect(ahead.isDue(entry, entry.refreshAt - 1)).toBe(false);
    expect(ahead.isDue(entry, entry.refreshAt)).toBe(true);
  });

  it('serves the held token when a refresh fails while it is valid, and throws once it is not', () => {
    let now = 0;
    const events: TokenClientEvent[] = [];
    const entry = createTokenCache(defaults).entryFor({});
    const ahead = createRefreshAhead(policy(() => now, events));
    const held = new AccessToken('t', 'Bearer', 100_000, undefined);
    ahead.store(entry, held);
    now = 90_000;
    expect(ahead.recover(entry, new Error('ECONNREFUSED'), false)).toBe(held);
    expect(events.map((e) => e.type)).toEqual(['token.refresh_failed', 'token.stale_served']);
    now = 100_000;
    expect(() => ahead.recover(entry, new Error('ECONNREFUSED'), false)).toThrow(expect.objectContaining({ code: 'provider_unavailable' }));
  });
});
