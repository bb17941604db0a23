import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createVerifier, type ResourceServerEvent } from '../src/index.js';
import { claims, createClock, makeKey, mint, nowSeconds, startIssuer } from './helpers.js';

/** An m2m-auth opaque token, its checksum computed with Node's own CRC-32 (an independent implementation). */
function opaqueToken(): string {
  const body = randomBytes(32).toString('base64url');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return `m2mat_${body}${crc.toString('base64url')}`;
}

/**
 * The verifier picks the way per token, with nothing to set but introspection credentials: a JWT
 * is verified offline, an opaque token is introspected; an m2m-auth handle that fails its
 * checksum never reaches the authorization server.
 */
describe('m2m-auth opaque tokens', () => {
  async function setUp(withIntrospection: boolean) {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const introspected: string[] = [];
    issuer.onIntrospect((_req, body) => {
      const token = new URLSearchParams(body).get('token')!;
      introspected.push(token);
      return {
        status: 200,
        body:
          token.startsWith('m2mat_') || token === 'vendor-opaque' ? { active: true, ...claims(issuer.issuer, { exp: nowSeconds() + 300 }) } : { active: false },
      };
    });
    const events: ResourceServerEvent[] = [];
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: 'https://payments.example',
      now: createClock().now,
      onEvent: (event) => events.push(event),
      ...(withIntrospection ? { introspection: { clientId: 'rs', clientSecret: 'rs-secret' } } : {}),
    });
    return { key, issuer, verifier, introspected, events };
  }

  it('with introspection: a JWT offline, an m2m-auth handle or another opaque token by introspection', async () => {
    const { key, issuer, verifier, introspected } = await setUp(true);
    try {
      await expect(verifier.verify(await mint(key, claims(issuer.issuer)))).resolves.toMatchObject({ source: 'jwt' });
      expect(introspected).toEqual([]);
      const handle = opaqueToken();
      await expect(verifier.verify(handle)).resolves.toMatchObject({
        source: 'introspection',
        subject: 'orders-service',
        scopes: ['payments:read', 'payments:write'],
      });
      await expect(verifier.verify('vendor-opaque')).resolves.toMatchObject({ source: 'introspection' });
      expect(introspected).toEqual([handle, 'vendor-opaque']);
    } finally {
      await issuer.close();
    }
  });

  it('a mistyped or made-up handle is refused without asking the authorization server', async () => {
    const { issuer, verifier, introspected, events } = await setUp(true);
    try {
      const handle = opaqueToken();
      for (const guess of [
        `${handle.slice(0, 12)}${handle[12] === 'A' ? 'B' : 'A'}${handle.slice(13)}`,
        handle.slice(0, -1),
        `m2mat_${randomBytes(37).toString('base64url').slice(0, 49)}`,
        'm2mat_',
      ]) {
        await expect(verifier.verify(guess)).rejects.toMatchObject({ code: 'invalid_token', status: 401, reason: 'malformed_token' });
      }
      expect(introspected).toEqual([]);
      expect(JSON.stringify(events)).not.toContain(handle.slice(6, 49));
    } finally {
      await issuer.close();
    }
  });

  it('without introspection: a handle is refused with a reason that says why, JWTs still pass', async () => {
    const { key, issuer, verifier, events } = await setUp(false);
    try {
      await expect(verifier.verify(opaqueToken())).rejects.toMatchObject({
        code: 'invalid_token',
        reason: 'opaque_not_introspected',
        description: 'The access token is opaque, and this resource server does not introspect tokens.',
      });
      expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected', reason: 'opaque_not_introspected' }));
      await expect(verifier.verify(await mint(key, claims(issuer.issuer)))).resolves.toMatchObject({ source: 'jwt' });
    } finally {
      await issuer.close();
    }
  });
});
