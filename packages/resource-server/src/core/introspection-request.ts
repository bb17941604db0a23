import { AuthError } from './errors.js';
import type { EmitEvent } from './events.js';
import type { IntrospectionAnswer } from './introspection-cache.js';

/**
 * One RFC 7662 request: the claims of an active token, `null` for an inactive one. Anything else —
 * unreachable, a non-2xx answer, an answer without `active` — is a 503-class error (the token was
 * not judged), reported as `introspection.failed` without the token.
 */
export function createIntrospectionRequest(
  options: { clientId: string; clientSecret: string; endpointUri: () => Promise<string>; timeoutMs?: number },
  deps: { fetch: typeof fetch; emit: EmitEvent },
): (token: string) => Promise<IntrospectionAnswer> {
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  return async (token) => {
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
  };
}

function unavailable(message: string, emit: EmitEvent): AuthError {
  emit({ type: 'introspection.failed', message });
  return new AuthError('temporarily_unavailable', 'The token cannot be checked right now.', 'introspection_unavailable');
}
