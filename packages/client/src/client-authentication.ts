import { randomUUID } from 'node:crypto';
import { importJWK, importPKCS8, SignJWT, type JWK, type CryptoKey, type KeyObject } from 'jose';
import type { AuthMethod, PrivateKeySource, SecretSource } from './token-client-options.js';

export interface ClientCredentialsConfig {
  clientId: string;
  clientSecret?: SecretSource;
  privateKey?: PrivateKeySource;
  /** For private_key_jwt: the JWS algorithm (default: the JWK's alg, else RS256) and key id. */
  assertionAlg?: string;
  assertionKid?: string;
}

/**
 * The credentials part of a token request: headers and body parameters for the chosen method.
 * Secrets are resolved per request (they may rotate) and held only in local variables.
 */
export class ClientAuthenticator {
  readonly #config: ClientCredentialsConfig;
  #secret: Promise<string> | undefined;
  #key: Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: string; kid: string | undefined }> | undefined;

  constructor(
    config: ClientCredentialsConfig,
    readonly method: AuthMethod,
  ) {
    this.#config = config;
  }

  /** Forget what was read from the secret source, so the next request reads it again (after invalid_client). */
  forgetSecret(): boolean {
    const rereadable = typeof this.#config.clientSecret === 'function' || typeof this.#config.privateKey === 'function';
    this.#secret = undefined;
    this.#key = undefined;
    return rereadable;
  }

  /** Strings that must never appear in an error message. */
  async secretsToRedact(): Promise<string[]> {
    if (!this.#secret) return [];
    return [await this.#secret.catch(() => '')].filter(Boolean);
  }

  async apply(headers: Record<string, string>, body: URLSearchParams, tokenEndpoint: string, now: number): Promise<void> {
    const { clientId } = this.#config;
    if (this.method === 'private_key_jwt') {
      body.set('client_id', clientId);
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', await this.#assertion(tokenEndpoint, now));
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

  /** RFC 7523 §3: iss = sub = client_id, aud = the token endpoint, a unique jti, a short exp. */
  async #assertion(tokenEndpoint: string, now: number): Promise<string> {
    const { key, alg, kid } = await this.#signingKey();
    const iat = Math.floor(now / 1000);
    return new SignJWT({})
      .setProtectedHeader(kid ? { alg, kid, typ: 'JWT' } : { alg, typ: 'JWT' })
      .setIssuer(this.#config.clientId)
      .setSubject(this.#config.clientId)
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
