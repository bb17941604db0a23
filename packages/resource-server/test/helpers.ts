import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';

export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
export const nowSeconds = () => Math.floor(NOW / 1000);

/** A controllable clock in milliseconds. */
export function createClock(start = NOW) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(
  alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA' = 'RS256',
  kid = `${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Signs claims with a key, with full control over the header (attacks need that). */
export async function mint(key: SigningKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as never).sign(key.privateKey);
}

/**
 * A stand-in issuer on loopback: RFC 8414 metadata and a JWKS whose keys, status and
 * availability the test controls; counts JWKS fetches.
 */
export async function startIssuer(options: { keys: SigningKey[]; issuerPath?: string }) {
  let keys = options.keys;
  let jwksStatus = 200;
  let jwksFetches = 0;
  let introspect: ((req: IncomingMessage, body: string) => { status: number; body: unknown }) | undefined;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.url === `${options.issuerPath ?? ''}/.well-known/oauth-authorization-server`) {
        return send(200, { issuer, jwks_uri: `${base}/jwks`, introspection_endpoint: `${base}/introspect`, token_endpoint: `${base}/token` });
      }
      if (req.url === '/jwks') {
        jwksFetches += 1;
        if (jwksStatus !== 200) return send(jwksStatus, { error: 'down' });
        return send(200, { keys: keys.map((k) => k.publicJwk) }, { 'cache-control': 'public, max-age=300' });
      }
      if (req.url === '/introspect' && introspect) {
        const answer = introspect(req, body);
        return send(answer.status, answer.body);
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}${options.issuerPath ?? ''}`;
  return {
    issuer,
    base,
    jwksUri: `${base}/jwks`,
    setKeys: (next: SigningKey[]) => void (keys = next),
    setJwksStatus: (status: number) => void (jwksStatus = status),
    jwksFetches: () => jwksFetches,
    onIntrospect: (handler: typeof introspect) => void (introspect = handler),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TestIssuer = Awaited<ReturnType<typeof startIssuer>>;

/** RFC 9068 claims valid at NOW, for this issuer and audience. */
export function claims(issuer: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: issuer,
    sub: 'orders-service',
    aud: 'https://payments.example',
    exp: nowSeconds() + 600,
    iat: nowSeconds() - 10,
    nbf: nowSeconds() - 10,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    client_id: 'orders-service',
    scope: 'payments:read payments:write',
    ...overrides,
  };
}
