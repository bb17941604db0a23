#!/usr/bin/env node
// node-oidc-provider 9 configured for the same job as m2m-auth: the client_credentials grant, a
// confidential client authenticated by client_secret_basic, JWT access tokens (RFC 9068 via
// resource indicators) signed RS256 or ES256, the default in-memory adapter. Used only as a
// benchmark peer, started by bench/token-endpoint/targets.js.
//
// env: PORT, ALG (ES256 | RS256). Prints one JSON ready line.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 0);
const alg = process.env.ALG ?? 'ES256';
const issuer = `http://127.0.0.1:${port}`;
const AUDIENCE = 'https://api.bench.example';
const SCOPE = 'read:things';
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = randomBytes(32).toString('base64url');

const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: randomBytes(8).toString('base64url') };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
      // Only one signing key exists, so the client's (unused) ID token alg must match it.
      id_token_signed_response_alg: alg,
    },
  ],
  jwks: { keys: [signingJwk] },
  scopes: [SCOPE],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== AUDIENCE) throw new Provider.errors.InvalidTarget();
        return { scope: SCOPE, audience: AUDIENCE, accessTokenTTL: 900, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ ready: true, url: issuer, tokenPath: '/token', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: AUDIENCE, scope: SCOPE })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
