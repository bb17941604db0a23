import type { JWTPayload } from 'jose';
import type { RegisteredClient, RegisteredExchangePolicy } from '../storage/types.js';
import { invalidRequest, invalidScope, invalidTarget, OAuthError } from '../errors/oauth-error.js';
import { echo } from '../errors/echo.js';
import type { FormParams } from '../protocol/form-params.js';
import type { TokenIssuer } from '../tokens/token-issuer.js';
import { readOwnToken, type OwnTokenReadDeps } from '../tokens/read-own-token.js';
import { scopesOf, tokenStillStands, type TokenStandingDeps } from '../tokens/token-standing.js';
import { PlatformTokenRejected, verifyPlatformToken, type PlatformTokenDeps } from '../federation/platform-token.js';
import { readTokenRequest, resolveApi, type GrantDirectory } from './client-credentials-grant.js';
import { confirmationFor } from '../sender-constraint/token-binding.js';
import { parseScopeParameter } from './scope.js';
import type { GrantType } from './grant-type.js';
import { DEFAULT_MAX_DELEGATION_CHAIN } from '../protocol/limits.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const SUBJECT_TOKEN_TYPES = [ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE];

/** The reads the exchange needs beyond a grant's: the exchanging client's policies. */
export interface ExchangeDirectory extends GrantDirectory {
  exchangePolicies(clientId: string): Promise<readonly RegisteredExchangePolicy[]>;
}

export interface TokenExchangeDeps {
  issuer: string;
  registry: ExchangeDirectory;
  now: () => number;
  /** Makes the token in its API's format (JWT or opaque). */
  tokens: TokenIssuer;
  /** Where opaque tokens of ours are read, so they are exchangeable like JWTs. */
  opaque: OwnTokenReadDeps['opaque'];
  /** Whether a subject (or actor) token of ours still stands: revocation, client, grant. */
  standing: TokenStandingDeps;
  /** Trusted issuers, when JWTs of theirs may be exchanged. */
  federation?: Omit<PlatformTokenDeps, 'now'>;
  /** Longest delegation chain (`act` nesting, the new actor included). */
  maxChainLength?: number;
  maxTtlSeconds?: (audience: string) => number | undefined;
  /**
   * APIs never obtained by exchange, whatever the policies say (the admin API: the admin plane
   * refuses such a policy, and this holds even for one written into the database directly).
   */
  neverExchangedFor?: readonly string[];
}

/** Who a subject or actor token speaks for, once checked. */
interface CheckedToken {
  /** This server's client that the token was issued to; undefined for a trusted issuer's JWT. */
  clientId: string | undefined;
  /** The trusted issuer of an external JWT; undefined for our own tokens. */
  issuer: string | undefined;
  sub: string;
  /** What the token may do: our scopes; undefined for an external JWT, which carries none of ours. */
  scopes: readonly string[] | undefined;
  exp: number;
  claims: JWTPayload;
}

/**
 * RFC 8693 token exchange: a service that received a token trades it for one on the API it must
 * call next, never wider than what it received. Nothing is exchangeable until a policy says which
 * client may exchange whose tokens for which API; the result names the subject (`sub`), the
 * exchanging client (`client_id`) and the chain of actors (`act`), and lives no longer than the
 * subject token.
 */
export function createTokenExchangeGrant(deps: TokenExchangeDeps): GrantType {
  const maxChain = deps.maxChainLength ?? DEFAULT_MAX_DELEGATION_CHAIN;
  return {
    grantType: TOKEN_EXCHANGE_GRANT,
    // An exchange policy naming this client is the permission (nothing is exchangeable without one).
    permittedByPolicy: true,
    parameters: ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
    async handle(client, params, binding) {
      const requestedType = params.get('requested_token_type');
      if (requestedType !== undefined && !SUBJECT_TOKEN_TYPES.includes(requestedType)) {
        throw invalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE} (or ${JWT_TOKEN_TYPE}).`);
      }
      const subject = await checkToken(deps, params, 'subject');
      if (!subject) throw invalidRequest('The subject_token parameter is required.');
      const actor = await checkToken(deps, params, 'actor');

      const request = readTokenRequest(params);
      const api = await resolveApi(deps, client, request.audience);
      if (deps.neverExchangedFor?.includes(api.identifier)) throw invalidTarget(`Tokens of ${api.identifier} are never obtained by token exchange.`);
      const confirmation = confirmationFor(api, binding);
      const grant = await deps.registry.grant(client.clientId, api.identifier);
      if (!grant) throw invalidTarget(`This client has no grant for the API ${api.identifier}.`);
      const policies = (await deps.registry.exchangePolicies(client.clientId)).filter(
        (policy) => policy.apiIdentifier === api.identifier && covers(policy, subject),
      );
      if (policies.length === 0) {
        throw new OAuthError('unauthorized_client', `No token-exchange policy lets this client exchange that subject's tokens for ${api.identifier}.`);
      }

      const scopes = exchangedScopes(
        api.scopes.map((scope) => scope.value),
        grant.scopes,
        subject.scopes,
        policies,
        parseScopeParameter(params.get('scope')),
        api.identifier,
      );
      const act = actClaim(client, actor, subject.claims);
      if (chainLength(act) > maxChain) {
        throw new OAuthError('invalid_grant', `The delegation chain would be longer than the ${maxChain} actors this server allows.`);
      }
      const mayAct = subject.claims.may_act as { sub?: unknown } | undefined;
      if (mayAct && typeof mayAct === 'object' && mayAct.sub !== act.sub) {
        throw new OAuthError('invalid_grant', 'The subject token names who may act for it (may_act), and it is not this actor.');
      }

      const remaining = subject.exp - Math.floor(deps.now() / 1000);
      const ttlSeconds = Math.min(grant.tokenTtlSeconds ?? api.tokenTtlSeconds, deps.maxTtlSeconds?.(api.identifier) ?? Infinity, remaining);
      if (ttlSeconds <= 0) throw new OAuthError('invalid_grant', 'The subject token has expired.');
      const token = await deps.tokens.issue(api, {
        issuer: deps.issuer,
        clientId: client.clientId,
        subject: subject.sub,
        audience: api.identifier,
        scopes,
        ttlSeconds,
        act,
        confirmation,
        ...(subject.issuer ? { extraClaims: { subject_issuer: subject.issuer } } : {}),
      });
      return { token, audience: api.identifier, scopes, issuedTokenType: ACCESS_TOKEN_TYPE };
    },
  };
}

/** A subject or actor token: ours (a JWT signed by a published key or an opaque token we hold; unexpired, still standing), or a trusted issuer's JWT. */
async function checkToken(deps: TokenExchangeDeps, params: FormParams, role: 'subject' | 'actor'): Promise<CheckedToken | undefined> {
  const token = params.get(`${role}_token`);
  const type = params.get(`${role}_token_type`);
  if (token === undefined) {
    if (type !== undefined) throw invalidRequest(`${role}_token_type was sent without ${role}_token.`);
    return undefined;
  }
  if (type === undefined) throw invalidRequest(`${role}_token_type is required with ${role}_token.`);
  if (!SUBJECT_TOKEN_TYPES.includes(type)) throw invalidRequest(`${role}_token_type must be ${SUBJECT_TOKEN_TYPES.join(' or ')}.`);
  const invalid = () => new OAuthError('invalid_grant', `The ${role}_token is not valid (expired, revoked, or not one this server accepts).`);

  const claims = (await readOwnToken({ issuer: deps.issuer, keyRing: deps.registry.keyRing, now: deps.now, opaque: deps.opaque }, token))?.claims;
  if (claims) {
    if (!(await tokenStillStands(deps.standing, claims))) throw invalid();
    return { clientId: String(claims.client_id), issuer: undefined, sub: String(claims.sub), scopes: scopesOf(claims), exp: claims.exp!, claims };
  }
  if (type === JWT_TOKEN_TYPE && deps.federation) {
    try {
      const verified = await verifyPlatformToken({ ...deps.federation, now: deps.now }, token, 'jwt-bearer');
      // An audience is required: a JWT meant for someone else is not exchangeable here.
      const audiences = typeof verified.payload.aud === 'string' ? [verified.payload.aud] : (verified.payload.aud ?? []);
      if (!audiences.includes(deps.issuer)) throw invalid();
      return {
        clientId: undefined,
        issuer: verified.issuer.issuer,
        sub: verified.subject,
        scopes: undefined,
        exp: verified.payload.exp!,
        claims: verified.payload,
      };
    } catch (error) {
      if (error instanceof PlatformTokenRejected) throw invalid();
      throw error;
    }
  }
  throw invalid();
}

function covers(policy: RegisteredExchangePolicy, subject: CheckedToken): boolean {
  if (subject.issuer !== undefined) return policy.subjectIssuer === subject.issuer;
  return policy.subjectIssuer === null && (policy.subjectClientId === '*' || policy.subjectClientId === subject.clientId);
}

/**
 * At most: defined on the target API, granted to the exchanging client there, carried by the
 * subject token (for our own tokens), and within a policy's ceiling. Without a requested scope,
 * all of that; with one, exactly what was asked, each scope within it.
 */
function exchangedScopes(
  defined: readonly string[],
  granted: readonly string[],
  carried: readonly string[] | undefined,
  policies: readonly RegisteredExchangePolicy[],
  requested: string[] | undefined,
  apiIdentifier: string,
): string[] {
  const ceiling = policies.some((policy) => policy.scopes === null) ? undefined : new Set(policies.flatMap((policy) => policy.scopes ?? []));
  const allowed = granted.filter((scope) => defined.includes(scope) && (carried === undefined || carried.includes(scope)) && (!ceiling || ceiling.has(scope)));
  if (requested === undefined) {
    if (allowed.length === 0) throw invalidScope(`The subject token carries none of the scopes this client may obtain on ${apiIdentifier}.`);
    return allowed;
  }
  for (const scope of requested) {
    if (!allowed.includes(scope))
      throw invalidScope(`The scope ${echo(scope)} is wider than the subject token, this client's grant or the exchange policy allow.`);
  }
  return requested;
}

/** The new actor first, the subject token's chain nested under it (RFC 8693 §4.1). */
function actClaim(client: RegisteredClient, actor: CheckedToken | undefined, subjectClaims: JWTPayload): Record<string, unknown> {
  const previous = subjectClaims.act;
  const acting = actor
    ? { sub: actor.sub, ...(actor.issuer ? { iss: actor.issuer } : { client_id: actor.clientId }) }
    : { sub: client.clientId, client_id: client.clientId };
  return { ...acting, ...(previous && typeof previous === 'object' ? { act: previous } : {}) };
}

export function chainLength(act: unknown): number {
  let length = 0;
  for (let node = act; node !== null && typeof node === 'object' && length <= 64; node = (node as { act?: unknown }).act) length += 1;
  return length;
}
