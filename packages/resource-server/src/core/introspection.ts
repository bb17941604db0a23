import { createHash } from 'node:crypto';
import { AuthError, invalidToken } from './errors.js';
import type { EmitEvent } from './events.js';

export interface IntrospectionOptions {
  /** RFC 7662 endpoint; with an issuer and no endpoint, taken from the issuer's metadata. */
  endpoint?: string;
  clientId: string;
  clientSecret: string;
  /** `fallback` (default): JWTs are verified offline, anything else is introspected. `always`: every token is introspected (revocation takes effect at once). */
  mode?: 'fallback' | 'always';
  /** How long an active answer may be reused (never past the token's exp). Default 60 s. */
  cacheTtlSeconds?: number;
  /** How long an inactive answer is remembered. Default 10 s. */
  inactiveTtlSeconds?: number;
  timeoutMs?: number;
  maxEntries?: number;
}

export interface Introspector {
  /** Active claims, or throws invalid_token (inactive) / temporarily_unavailable (endpoint down). */
  introspect(token: string): Promise<Record<string, unknown>>;
}

/**
 * RFC 7662 client with a cache keyed by SHA-256 of the token (the token itself is never a key,
 * so a heap dump of the cache holds no usable credential). Fails closed: when the endpoint cannot
 * answer, the request fails with 503, never passes.
 */
export function createIntrospector(
  options: IntrospectionOptions & { endpointUri: () => Promise<string> },
  deps: { fetch: typeof fetch; now: () => number; emit: EmitEvent },
): Introspector {
  const activeTtlMs = (options.cacheTtlSeconds ?? 60) * 1000;
  const inactiveTtlMs = (options.inactiveTtlSeconds ?? 10) * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { claims: Record<string, unknown> | null; until: number }>();
  const inFlight = new Map<string, Promise<Record<string, unknown> | null>>();
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

  async function ask(token: string): Promise<Record<string, unknown> | null> {
    let response: Response;
    try {
      response = await deps.fetch(await options.endpointUri(), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw unavailable(error instanceof Error ? error.message : String(error), deps.emit);
    }
    if (!response.ok) throw unavailable(`introspection endpoint answered ${response.status}`, deps.emit);
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (!body || typeof body.active !== 'boolean') throw unavailable('introspection answer has no active member', deps.emit);
    return body.active ? body : null;
  }

  return {
    async introspect(token) {
      const key = createHash('sha256').update(token).digest('base64url');
      const now = deps.now();
      const cached = cache.get(key);
      let claims: Record<string, unknown> | null;
      if (cached && cached.until > now) {
        claims = cached.claims;
      } else {
        let pending = inFlight.get(key);
        if (!pending) {
          pending = ask(token).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        claims = await pending;
        const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : Infinity;
        const until = claims ? Math.min(now + activeTtlMs, exp) : now + inactiveTtlMs;
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
        cache.set(key, { claims, until });
      }
      if (!claims) throw invalidToken('The access token is not active.', 'inactive');
      return claims;
    },
  };
}

function unavailable(message: string, emit: EmitEvent): AuthError {
  emit({ type: 'introspection.failed', message });
  return new AuthError('temporarily_unavailable', 'The token cannot be checked right now.', 'introspection_unavailable');
}
