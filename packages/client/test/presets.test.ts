import { afterEach, describe, expect, it } from 'vitest';
import { createTokenClient, presets, type ClientPreset } from '../src/index.js';
import { basicCredentials, createClock, startTokenServer, tokenAnswer, type RecordedRequest } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Each provider's request shape, checked on the wire against a local stand-in that answers like
 * the provider does (path, client authentication, how the audience and scopes travel).
 */
const providers: Array<{
  name: string;
  preset: (base: string) => ClientPreset;
  path: string;
  request: { audience?: string; scope?: string };
  expect: (request: RecordedRequest) => void;
}> = [
  {
    name: 'Keycloak',
    preset: (base) => presets.keycloak({ baseUrl: base, realm: 'shop' }),
    path: '/realms/shop/protocol/openid-connect/token',
    request: { scope: 'payments:read' },
    expect: (r) => {
      expect(basicCredentials(r.headers.authorization)).toEqual({ id: 'my-client', secret: 'my secret' });
      expect(r.form).toEqual({ grant_type: 'client_credentials', scope: 'payments:read' });
    },
  },
  {
    name: 'Auth0',
    preset: (base) => presets.auth0({ domain: base }),
    path: '/oauth/token',
    request: { audience: 'https://payments.example', scope: 'payments:read' },
    expect: (r) => {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.form).toEqual({
        grant_type: 'client_credentials',
        client_id: 'my-client',
        client_secret: 'my secret',
        audience: 'https://payments.example',
        scope: 'payments:read',
      });
    },
  },
  {
    name: 'Entra ID',
    preset: (base) => presets.entra({ tenantId: 'tenant-1', authority: base }),
    path: '/tenant-1/oauth2/v2.0/token',
    request: { audience: 'api://payments', scope: 'ignored' },
    expect: (r) => {
      expect(r.form).toEqual({ grant_type: 'client_credentials', client_id: 'my-client', client_secret: 'my secret', scope: 'api://payments/.default' });
    },
  },
  {
    name: 'Cognito',
    preset: (base) => presets.cognito({ domain: base }),
    path: '/oauth2/token',
    request: { audience: 'payments', scope: 'read write' },
    expect: (r) => {
      expect(basicCredentials(r.headers.authorization)).toEqual({ id: 'my-client', secret: 'my secret' });
      expect(r.form).toEqual({ grant_type: 'client_credentials', scope: 'payments/read payments/write' });
    },
  },
  {
    name: 'Okta',
    preset: (base) => presets.okta({ domain: base, authorizationServerId: 'aus1' }),
    path: '/oauth2/aus1/v1/token',
    request: { scope: 'payments:read' },
    expect: (r) => {
      expect(basicCredentials(r.headers.authorization)).toEqual({ id: 'my-client', secret: 'my secret' });
      expect(r.form).toEqual({ grant_type: 'client_credentials', scope: 'payments:read' });
    },
  },
];

describe('provider presets on the wire', () => {
  for (const provider of providers) {
    it(`${provider.name}: sends the request the provider expects and reads its answer`, async () => {
      const server = await startTokenServer((request) =>
        request.path === provider.path ? tokenAnswer(`${provider.name}-token`, 3599) : { status: 404, body: { error: 'not_found' } },
      );
      const client = createTokenClient({
        preset: provider.preset(server.base),
        clientId: 'my-client',
        clientSecret: 'my secret',
        clock: createClock().now,
        ...provider.request,
      });
      cleanups.push(
        () => server.close(),
        () => client.close(),
      );
      const token = await client.getToken();
      expect(token.accessToken).toBe(`${provider.name}-token`);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.path).toBe(provider.path);
      provider.expect(server.requests[0]!);
    });
  }

  it('m2m-auth preset: finds the token endpoint through discovery, once', async () => {
    const server = await startTokenServer(() => tokenAnswer('t'), { metadataPath: '/oauth/token' });
    const client = createTokenClient({
      preset: presets.m2mAuth({ issuer: server.base }),
      clientId: 'c',
      clientSecret: 's',
      audience: 'https://payments.example',
      clock: createClock().now,
    });
    cleanups.push(
      () => server.close(),
      () => client.close(),
    );
    await client.getToken();
    await client.getToken({ scope: 'x' });
    expect(server.requests.map((r) => r.path)).toEqual(['/oauth/token', '/oauth/token']);
    expect(server.requests[0]!.form.audience).toBe('https://payments.example');
  });
});
