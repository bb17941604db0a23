import { jwtVerify, errors as joseErrors } from 'jose';
import type { RegistryView } from '../../registry/registry-view.js';
import type { EndpointResponse } from '../../protocol/endpoint-response.js';
import { problemResponse } from '../../errors/problem-details.js';
import { ADMIN_API_IDENTIFIER, ADMIN_TOKEN_TTL_SECONDS, type AdminScope } from '../../admin/built-in-admin-api.js';
import type { AdminCaller } from '../../admin/admin-context.js';
import type { RevokedTokenStore } from '../../state/types.js';
import { SharedStateUnavailableError } from '../../state/resilient-state.js';
import { revokedTokenKey } from '../../tokens/verify-own-token.js';

export const ADMIN_REALM = 'm2m-auth-admin';
/** The built-in admin API signs RS256 and cannot be changed: nothing else is accepted. */
const ADMIN_ALGORITHMS = ['RS256'];
const CLOCK_TOLERANCE_SECONDS = 5;
/** RFC 7235 §2.1: the scheme name is case-insensitive; the token is RFC 6750's b64token. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
/** How long a caller waits before retrying when the revocation check cannot be made. */
const RETRY_AFTER_SECONDS = '1';

export type { AdminCaller };

/** Why a request was refused, already in its wire form (RFC 6750 §3 challenge + problem details). */
export class AdminAuthFailure {
  constructor(readonly response: EndpointResponse) {}
}

/**
 * Verifies admin tokens as any resource server would — signature against the server's own keys,
 * `typ`, issuer, audience, expiry — and then, because this resource server can, against the
 * registry and the shared state: a revoked token, a disabled or deleted admin client, or a narrowed
 * grant takes effect at once instead of when its tokens expire. When the revocation check cannot
 * be made (shared state away) the answer is 503, never a token accepted blind.
 */
export function createAdminAuthenticator(deps: {
  issuer: string;
  registry: RegistryView;
  revoked: Pick<RevokedTokenStore, 'isTokenRevoked'>;
  now: () => number;
  /** Longest lifetime an admin token may have (default ADMIN_TOKEN_TTL_SECONDS). */
  maxTokenTtlSeconds?: number;
}) {
  const maxTtlSeconds = deps.maxTokenTtlSeconds ?? ADMIN_TOKEN_TTL_SECONDS;
  async function authenticate(authorization: string | undefined): Promise<AdminCaller> {
    if (authorization === undefined || authorization === '')
      throw challenge(401, 'unauthorized', 'An admin access token is required: Authorization: Bearer <token>');
    const match = BEARER.exec(authorization);
    if (!match) throw challenge(401, 'invalid-token', 'The Authorization header must be: Bearer <token>', 'invalid_token');
    const ring = await deps.registry.keyRing();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(
        match[1]!,
        (header) => {
          const key = header.kid === undefined ? undefined : ring.verificationKey(header.kid);
          if (!key || key.apiIdentifier !== null || key.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
          return key.key;
        },
        {
          issuer: deps.issuer,
          audience: ADMIN_API_IDENTIFIER,
          typ: 'at+jwt',
          algorithms: ADMIN_ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(deps.now()),
          requiredClaims: ['exp', 'iat', 'jti', 'client_id'],
        },
      ));
    } catch (error) {
      throw challenge(401, 'invalid-token', describeJoseFailure(error), 'invalid_token');
    }
    // RFC 9449 §7.2: a bound token is worth nothing without its key's proof, and this API takes bearer tokens only.
    if (payload.cnf !== undefined)
      throw challenge(401, 'invalid-token', 'The token is bound to a key (DPoP); the admin API accepts bearer tokens only', 'invalid_token');
    // A token minted before the maximum was lowered (or from a grant edited in the database) is
    // refused rather than honoured for its longer life.
    if (Number(payload.exp) - Number(payload.iat) > maxTtlSeconds)
      throw challenge(401, 'invalid-token', `Admin tokens may live at most ${maxTtlSeconds} seconds`, 'invalid_token');
    if (await isRevoked(String(payload.jti))) throw challenge(401, 'invalid-token', 'The token has been revoked', 'invalid_token');
    const clientId = String(payload.client_id);
    const client = await deps.registry.client(clientId);
    if (!client?.isEnabled) throw challenge(401, 'invalid-token', 'The token’s client is disabled or deleted', 'invalid_token');
    const grant = await deps.registry.grant(clientId, ADMIN_API_IDENTIFIER);
    const granted = new Set(grant?.scopes ?? []);
    const scopes = new Set(
      String(payload.scope ?? '')
        .split(' ')
        .filter((scope) => granted.has(scope)),
    );
    return { clientId, scopes };
  }

  async function isRevoked(jti: string): Promise<boolean> {
    try {
      return await deps.revoked.isTokenRevoked(revokedTokenKey(jti));
    } catch (error) {
      if (!(error instanceof SharedStateUnavailableError)) throw error;
      throw new AdminAuthFailure(
        problemResponse(
          {
            status: 503,
            code: 'service-unavailable',
            title: 'Service Unavailable',
            detail: 'The token’s revocation status cannot be checked right now; retry shortly',
          },
          { 'retry-after': RETRY_AFTER_SECONDS },
        ),
      );
    }
  }

  function requireScope(caller: AdminCaller, scope: AdminScope): void {
    if (!caller.scopes.has(scope)) {
      throw challenge(403, 'insufficient-scope', `This operation needs the scope ${scope} on ${ADMIN_API_IDENTIFIER}`, 'insufficient_scope', scope);
    }
  }

  return { authenticate, requireScope };
}

function challenge(status: 401 | 403, code: string, detail: string, error?: 'invalid_token' | 'insufficient_scope', scope?: string): AdminAuthFailure {
  // RFC 6750 §3: without a token, no error code; descriptions are plain ASCII without quotes.
  const params = [
    `realm="${ADMIN_REALM}"`,
    ...(error ? [`error="${error}"`, `error_description="${detail.replace(/["\\’]/g, "'")}"`] : []),
    ...(scope ? [`scope="${scope}"`] : []),
  ];
  const title = status === 403 ? 'Insufficient scope' : code === 'unauthorized' ? 'Unauthorized' : 'Invalid token';
  return new AdminAuthFailure(
    problemResponse(
      { status, code, title, detail, ...(scope ? { extensions: { required_scope: scope } } : {}) },
      { 'www-authenticate': `Bearer ${params.join(', ')}` },
    ),
  );
}

/** Distinct reasons help an operator; none of them echoes the token. */
function describeJoseFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: string }).claim;
      return claim === 'aud' ? `The token is not for ${ADMIN_API_IDENTIFIER}` : `The token’s ${claim} claim is not valid here`;
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'The token’s signature does not verify with this server’s keys';
    default:
      return 'The token is malformed or not one this server issued';
  }
}
