import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/**
 * A workload platform's token issuer on loopback, as Kubernetes, GitHub Actions or any OIDC
 * provider shows itself to a relying party: a discovery document, a JWKS, and keys that sign
 * tokens. Tests rotate its keys, count its requests and make it misbehave.
 */
export interface PlatformIssuer {
  /** `http://127.0.0.1:port` (+ path prefix): the `iss` of its tokens. */
  issuer: string;
  jwksUri: string;
  /** Requests per path, to see what the server fetched. */
  hits: Map<string, number>;
  /** Signs a token with the current key (header `kid` and `alg` of that key unless overridden). */
  sign(
    claims: JWTPayload,
    options?: { kid?: string; alg?: string; key?: CryptoKey | import('node:crypto').KeyObject; typ?: string; withoutIssuer?: boolean },
  ): Promise<string>;
  /** A new current key; the old one stays published unless `dropOld`. */
  rotate(options?: { dropOld?: boolean }): Promise<string>;
  /** The public JWKS as served. */
  jwks(): { keys: JWK[] };
  /** Replaces what a path answers (status, headers, body), e.g. a redirect or a huge body. */
  override(path: string, answer: ((response: ServerResponse, request: IncomingMessage) => void | Promise<void>) | undefined): void;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | import('node:crypto').KeyObject;
  publicJwk: JWK;
}

export async function startPlatformIssuer(options: { alg?: 'ES256' | 'RS256' | 'EdDSA'; pathPrefix?: string; jwkUse?: string } = {}): Promise<PlatformIssuer> {
  const alg = options.alg ?? 'ES256';
  const prefix = options.pathPrefix ?? '';
  const keys: SigningKey[] = [];
  const hits = new Map<string, number>();
  const overrides = new Map<string, (response: ServerResponse, request: IncomingMessage) => void | Promise<void>>();
  let serial = 0;

  async function addKey(): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${(serial += 1)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: options.jwkUse ?? 'sig' };
    const key = { kid, alg, privateKey, publicJwk };
    keys.push(key);
    return key;
  }
  await addKey();

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const override = overrides.get(path);
    if (override) return void override(response, request);
    const json = (body: unknown) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (path === `${prefix}/.well-known/openid-configuration`) {
      return json({ issuer: platform.issuer, jwks_uri: platform.jwksUri, response_types_supported: ['id_token'], subject_types_supported: ['public'] });
    }
    if (path === `${prefix}/jwks`) return json(platform.jwks());
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;

  const platform: PlatformIssuer = {
    issuer: base,
    jwksUri: `${base}/jwks`,
    hits,
    async sign(claims, signOptions = {}) {
      const key = keys.at(-1)!;
      // A JWT-SVID may carry no iss at all (SPIFFE names the trust domain in sub).
      const jwt = new SignJWT(signOptions.withoutIssuer ? claims : { iss: platform.issuer, ...claims }).setProtectedHeader({
        alg: signOptions.alg ?? key.alg,
        kid: signOptions.kid ?? key.kid,
        ...(signOptions.typ ? { typ: signOptions.typ } : {}),
      });
      return jwt.sign(signOptions.key ?? key.privateKey);
    },
    async rotate(rotateOptions = {}) {
      const old = keys.slice();
      const added = await addKey();
      if (rotateOptions.dropOld) for (const key of old) keys.splice(keys.indexOf(key), 1);
      return added.kid;
    },
    jwks: () => ({ keys: keys.map((key) => key.publicJwk) }),
    override(path, answer) {
      if (answer) overrides.set(`${prefix}${path}`, answer);
      else overrides.delete(`${prefix}${path}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return platform;
}
