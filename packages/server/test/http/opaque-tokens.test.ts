import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { availableStacks } from '../helpers/stacks.js';
import { basic, createClock, createTestApp, form, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { generateOpaqueToken, isWellFormedOpaqueToken, OPAQUE_TOKEN_PREFIX, opaqueTokenKey } from '../../src/tokens/opaque-token-format.js';
import { deriveSecrets } from '../../src/keys/master-key.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';

/**
 * Opaque access tokens, as an attacker would try them: a guessed handle, a typo, a replay after
 * revocation, an introspection by a client without permission, an expired token, a store written
 * by someone without the server's pepper — and, at rest and in the log, no raw token anywhere.
 * On each stack CI runs (SQLite with its state file, PostgreSQL with Redis).
 */
const stacks = await availableStacks();
const PAYMENTS = 'https://payments.example';
const INVENTORY = 'https://inventory.example';

describe.each(stacks)('opaque access tokens on $name', (stack) => {
  let t: TestApp;
  let caller: { clientId: string; clientSecret: string };
  let paymentsApi: string;

  beforeEach(async () => {
    t = await createTestApp({ stack });
    caller = await seedExampleSystem(t.runtime);
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
    const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
    paymentsApi = basic(rs.clientId, rs.clientSecret!);
  });
  afterEach(() => t.close());

  const token = (audience = PAYMENTS) => postToken(t.app, { grant_type: 'client_credentials', audience }, basic(caller.clientId, caller.clientSecret));
  const issue = async (audience = PAYMENTS) => (await token(audience)).body.access_token as string;

  async function introspect(subject: string, authorization = paymentsApi) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      payload: form({ token: subject }),
    });
    expect(response.statusCode).toBe(200);
    return response.json() as Record<string, unknown>;
  }
  const revoke = (subject: string, authorization = basic(caller.clientId, caller.clientSecret)) =>
    postToken(t.app, { token: subject }, authorization, { url: '/oauth/revoke' });

  it('an opaque API gets a checksummed handle, answered like a JWT: Bearer, expires_in, scope', async () => {
    const opaque = await token();
    expect(opaque.status).toBe(200);
    expect(opaque.body).toEqual({ access_token: expect.stringMatching(/^m2mat_/), token_type: 'Bearer', expires_in: 900, scope: 'payments:write' });
    expect(isWellFormedOpaqueToken(opaque.body.access_token as string)).toBe(true);
    // Another API of the same client still gets JWTs.
    const jwt = await issue(INVENTORY);
    expect(decodeJwt(jwt).aud).toBe(INVENTORY);
  });

  it('introspection answers with the claims a JWT would carry', async () => {
    const handle = await issue();
    const answer = await introspect(handle);
    const nowS = Math.floor(t.clock.now() / 1000);
    expect(answer).toEqual({
      active: true,
      token_type: 'Bearer',
      iss: 'https://auth.test',
      sub: caller.clientId,
      aud: PAYMENTS,
      exp: nowS + 900,
      iat: nowS,
      nbf: nowS,
      jti: expect.any(String),
      client_id: caller.clientId,
      scope: 'payments:write',
    });
    // Switched back to JWTs: the same claims, now in the token itself; the handle keeps working.
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'jwt' });
    const jwt = await issue();
    expect(Object.keys(decodeJwt(jwt)).sort()).toEqual(
      Object.keys(answer)
        .filter((name) => name !== 'active' && name !== 'token_type')
        .sort(),
    );
    expect((await introspect(handle)).active).toBe(true);
  });

  it('a guessed handle — right prefix, wrong checksum; right checksum, unknown — and a typo are inactive', async () => {
    const real = await issue();
    const guesses = [
      `${OPAQUE_TOKEN_PREFIX}${randomBytes(37).toString('base64url').slice(0, 49)}`,
      `${real.slice(0, 20)}${real[20] === 'A' ? 'B' : 'A'}${real.slice(21)}`,
      real.slice(0, -1),
      `${real}A`,
      OPAQUE_TOKEN_PREFIX,
    ];
    // Well-formed but never issued: the checksum holds, the lookup finds nothing.
    guesses.push(generateOpaqueToken());
    for (const guess of guesses) expect(await introspect(guess)).toEqual({ active: false });
    for (const guess of guesses) expect((await revoke(guess)).status).toBe(200);
    expect((await introspect(real)).active).toBe(true);
  });

  it('a revoked handle is refused at once, even replayed; only its own client can revoke it', async () => {
    const handle = await issue();
    const stranger = await t.runtime.admin.createClient({ name: 'stranger' });
    expect((await revoke(handle, basic(stranger.clientId, stranger.clientSecret!))).status).toBe(200);
    expect(await revoke(handle, paymentsApi)).toMatchObject({ status: 200 });
    expect((await introspect(handle)).active).toBe(true);
    const revoked = await revoke(handle);
    expect(revoked).toMatchObject({ status: 200, body: {} });
    for (let replay = 0; replay < 3; replay++) expect(await introspect(handle)).toEqual({ active: false });
    expect((await revoke(handle)).status).toBe(200);
    expect(t.logs()).toContain('"event":"token.revoked"');
  });

  it('a client without permission to introspect the audience learns nothing, not even the token’s own client', async () => {
    const handle = await issue();
    const stranger = await t.runtime.admin.createClient({ name: 'stranger' });
    const inventoryRs = await t.runtime.admin.createClient({ name: 'inventory-api', introspectApis: [INVENTORY] });
    expect(await introspect(handle, basic(stranger.clientId, stranger.clientSecret!))).toEqual({ active: false });
    expect(await introspect(handle, basic(caller.clientId, caller.clientSecret))).toEqual({ active: false });
    expect(await introspect(handle, basic(inventoryRs.clientId, inventoryRs.clientSecret!))).toEqual({ active: false });
    expect((await introspect(handle)).active).toBe(true);
  });

  it('an expired handle is inactive, and the shared state forgets it', async () => {
    const handle = await issue();
    const key = opaqueTokenKey(deriveSecrets(t.masterKey).opaqueTokenPepper, handle);
    t.clock.advance(899_000);
    expect((await introspect(handle)).active).toBe(true);
    t.clock.advance(1_000);
    expect(await introspect(handle)).toEqual({ active: false });
    expect(await t.runtime.state.getOpaqueToken(key)).toBeUndefined();
  });

  it('a disabled client or a narrowed grant makes its handles inactive, as for JWTs', async () => {
    const handle = await issue();
    await t.runtime.admin.updateClient(caller.clientId, { isEnabled: false });
    expect(await introspect(handle)).toEqual({ active: false });
    await t.runtime.admin.updateClient(caller.clientId, { isEnabled: true });
    expect((await introspect(handle)).active).toBe(true);
    const [grant] = (await t.runtime.admin.listGrants({ clientId: caller.clientId, apiIdentifier: PAYMENTS })).items;
    await t.runtime.admin.updateGrant(grant!.id, { scopes: ['payments:read'] });
    expect(await introspect(handle)).toEqual({ active: false });
  });

  it('a value written to the shared state without the server’s pepper is no token: no minting, no widening', async () => {
    const handle = await issue();
    const key = opaqueTokenKey(deriveSecrets(t.masterKey).opaqueTokenPepper, handle);
    const stored = (await t.runtime.state.getOpaqueToken(key))!;
    // Widening the scope of a stored token breaks its seal.
    await t.runtime.state.putOpaqueToken(
      key,
      stored.replace('"scope":"payments:write"', '"scope":"payments:write payments:read"'),
      t.clock.now() + 60_000,
      caller.clientId,
    );
    expect(await introspect(handle)).toEqual({ active: false });
    // A handle of one's own, stored under a key made without the pepper, is unknown.
    const minted = generateOpaqueToken();
    await t.runtime.state.putOpaqueToken(opaqueTokenKey(randomBytes(32), minted), stored, t.clock.now() + 60_000, caller.clientId);
    expect(await introspect(minted)).toEqual({ active: false });
  });

  it('never stores or logs a raw handle: only its keyed hash and sealed claims are at rest', async () => {
    const handles = [await issue(), await issue()];
    await introspect(handles[0]!);
    await revoke(handles[1]!);
    const atRest = await t.dumpAtRest!();
    const logs = t.logs();
    for (const handle of handles) {
      const random = handle.slice(OPAQUE_TOKEN_PREFIX.length, OPAQUE_TOKEN_PREFIX.length + 43);
      expect(atRest).not.toContain(random);
      expect(atRest).not.toContain(Buffer.from(random, 'base64url').toString('latin1'));
      expect(logs).not.toContain(random);
    }
    expect(logs).not.toContain(OPAQUE_TOKEN_PREFIX);
    // What is there: the claims of the live one, under a key no one can reverse.
    expect(atRest).toContain(decodeURIComponent('%22scope%22%3A%22payments%3Awrite%22'));
  });
});

describe('the per-client allowance of unexpired opaque tokens', () => {
  it('a client over it is refused with 429 and Retry-After; its JWTs and other clients are not', async () => {
    const clock = createClock();
    const t = await createTestApp({ clock, runtime: { state: createMemoryState({ now: clock.now, allowance: { opaqueTokens: 2 } }) } });
    try {
      const caller = await seedExampleSystem(t.runtime);
      await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
      const other = await t.runtime.admin.createClient({ name: 'other' });
      await t.runtime.admin.createGrant({ clientId: other.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
      const token = (who: { clientId: string; clientSecret: string }, audience = PAYMENTS) =>
        postToken(t.app, { grant_type: 'client_credentials', audience }, basic(who.clientId, who.clientSecret));
      expect((await token(caller)).status).toBe(200);
      const second = await token(caller);
      expect((await token(caller)).status).toBe(429);
      const refused = await token(caller);
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe('temporarily_unavailable');
      expect(Number(refused.headers['retry-after'])).toBe(900);
      expect((await token(caller, INVENTORY)).status).toBe(200);
      expect((await token({ clientId: other.clientId, clientSecret: other.clientSecret! })).status).toBe(200);
      // A revoked token frees its place at once.
      await postToken(t.app, { token: second.body.access_token as string }, basic(caller.clientId, caller.clientSecret), { url: '/oauth/revoke' });
      expect((await token(caller)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
