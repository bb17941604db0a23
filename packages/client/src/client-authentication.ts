import { randomUUID } from 'node:crypto';
import { importJWK, importPKCS8, SignJWT, type JWK, type CryptoKey, type KeyObject } from 'jose';
import type { AuthMethod, ClientAssertionOptions, ClientAssertionType, PrivateKeySource, SecretSource } from './token-client-options.js';

export interface ClientCredentialsConfig {
  clientId?: string;
  clientSecret?: SecretSource;
  privateKey?: PrivateKeySource;
  /** For private_key_jwt: the JWS algorithm (default: the JWK's alg, else RS256) and key id. */
  assertionAlg?: string;
  assertionKid?: string;
  clientAssertion?: ClientAssertionOptions;
}

/** The configured methods, and a platform token as the client assertion (clientAssertion). */
export type AppliedAuthMethod = AuthMethod | 'platform_assertion';

const ASSERTION_TYPES: Readonly<Record<ClientAssertionType, string>> = {
  'jwt-bearer': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  'jwt-spiffe': 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe',
};

/**
 * The credentials part of a token request: headers and body parameters for the chosen method.
 * Secrets are resolved per request (they may rotate) and held only in local variables.
 */
export class ClientAuthenticator {
  readonly #config: ClientCredentialsConfig;
  #secret: Promise<string> | undefined;
  #key: Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: string; kid: string | undefined }> | undefined;
  /** The platform token last sent: an error description that echoes it is redacted. */
  #platformToken: string | undefined;

  constructor(
    config: ClientCredentialsConfig,
    readonly method: AppliedAuthMethod,
  ) {
    this.#config = config;
  }

  /**
   * Forget what was read from the secret, key or platform-token source, so the next request reads
   * it again (after invalid_client); true when that read may give another credential.
   */
  forgetCredentials(): boolean {
    const rereadable =
      typeof this.#config.clientSecret === 'function' || typeof this.#config.privateKey === 'function' || this.#config.clientAssertion !== undefined;
    this.#secret = undefined;
    this.#key = undefined;
    const source = this.#config.clientAssertion?.source;
    if (typeof source === 'object') source.forget?.();
    return rereadable;
  }

  /** Strings that must never appear in an error message. */
  async secretsToRedact(): Promise<string[]> {
    const secret = this.#secret ? await this.#secret.catch(() => '') : '';
    return [secret, this.#platformToken ?? ''].filter(Boolean);
  }

  async apply(headers: Record<string, string>, body: URLSearchParams, tokenEndpoint: string, now: number): Promise<void> {
    if (this.method === 'platform_assertion') {
      // RFC 7523 §2.2: the assertion identifies the client; client_id is sent only when configured.
      if (this.#config.clientId !== undefined) body.set('client_id', this.#config.clientId);
      body.set('client_assertion_type', ASSERTION_TYPES[this.#config.clientAssertion?.type ?? 'jwt-bearer']);
      body.set('client_assertion', await this.#readPlatformToken());
      return;
    }
    const clientId = this.#config.clientId;
    if (clientId === undefined) throw new TypeError(`clientId is required for ${this.method}`);
    if (this.method === 'tls_client_auth' || this.method === 'self_signed_tls_client_auth') {
      // RFC 8705 §2: the certificate in the handshake is the credential; the body names the client.
      body.set('client_id', clientId);
      return;
    }
    if (this.method === 'private_key_jwt') {
      body.set('client_id', clientId);
      body.set('client_assertion_type', ASSERTION_TYPES['jwt-bearer']);
      body.set('client_assertion', await this.#assertion(clientId, tokenEndpoint, now));
      return;
    }
    const secret = await this.#readSecret();
    if (this.method === 'client_secret_basic') {
      // RFC 6749 §2.3.1 / Appendix B: each part form-urlencoded before base64.
      headers.authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
    } else {
      body.set('client_id', clientId);
      body.set('client_secret', secret);
    }
  }

  #readSecret(): Promise<string> {
    const source = this.#config.clientSecret;
    if (source === undefined) return Promise.reject(new TypeError('clientSecret is required for this authentication method'));
    this.#secret ??= Promise.resolve(typeof source === 'function' ? source() : source).then((value) => {
      if (typeof value !== 'string' || value === '') throw new TypeError('clientSecret resolved to an empty value');
      return value;
    });
    this.#secret.catch(() => (this.#secret = undefined));
    return this.#secret;
  }

  /** Read for each request: the source keeps its own cache and knows when the token changed. */
  async #readPlatformToken(): Promise<string> {
    const source = this.#config.clientAssertion?.source;
    if (source === undefined) throw new TypeError('clientAssertion is required for this authentication method');
    const value = await (typeof source === 'function' ? source() : source.read());
    if (typeof value !== 'string') throw new TypeError(`clientAssertion.source must give a string (got ${typeof value})`);
    const token = value.trim();
    if (token === '') throw new TypeError('clientAssertion.source gave an empty token');
    this.#platformToken = token;
    return token;
  }

  /** RFC 7523 §3: iss = sub = client_id, aud = the token endpoint, a unique jti, a short exp. */
  async #assertion(clientId: string, tokenEndpoint: string, now: number): Promise<string> {
    const { key, alg, kid } = await this.#signingKey();
    const iat = Math.floor(now / 1000);
    return new SignJWT({})
      .setProtectedHeader(kid ? { alg, kid, typ: 'JWT' } : { alg, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .sign(key);
  }

  #signingKey() {
    const source = this.#config.privateKey;
    if (source === undefined) return Promise.reject(new TypeError('privateKey is required for private_key_jwt'));
    this.#key ??= (async () => {
      const material = typeof source === 'function' ? await source() : source;
      if (typeof material === 'string') {
        const alg = this.#config.assertionAlg ?? 'RS256';
        return { key: await importPKCS8(material, alg), alg, kid: this.#config.assertionKid };
      }
      if (isJwk(material)) {
        const alg = this.#config.assertionAlg ?? material.alg ?? 'RS256';
        return { key: await importJWK(material, alg), alg, kid: this.#config.assertionKid ?? material.kid };
      }
      return { key: material, alg: this.#config.assertionAlg ?? 'RS256', kid: this.#config.assertionKid };
    })();
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }
}

function isJwk(value: unknown): value is JWK {
  return typeof value === 'object' && value !== null && 'kty' in value;
}

/** application/x-www-form-urlencoded encoding of one value (space as +). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
