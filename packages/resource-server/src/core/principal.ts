/** Who called, and what they may do: the result of a successful verification. Frozen. */
export interface Principal {
  /** The configured principal claim: `sub` by default (`azp`, `client_id`, `appid` …). */
  readonly subject: string;
  /** The OAuth client that obtained the token (`client_id`, `azp`, `appid` or `cid`), when the token says. */
  readonly clientId: string | undefined;
  /** Scopes as granted (from `scope`, `scp` …), without prefix. */
  readonly scopes: readonly string[];
  /** Scopes and roles as authorities, with the configured prefix (e.g. `SCOPE_read`). */
  readonly authorities: readonly string[];
  readonly issuer: string | undefined;
  readonly audience: readonly string[];
  /** Expiry, seconds since the epoch. */
  readonly expiresAt: number | undefined;
  readonly issuedAt: number | undefined;
  readonly tokenId: string | undefined;
  /**
   * Who acted for the subject, the most recent actor first (RFC 8693 §4.1 `act`, unnested): empty
   * for a token the subject obtained itself. `actors[0]` is the service that exchanged the token.
   */
  readonly actors: readonly Actor[];
  /** How it was checked: a JWT verified offline, or an introspection answer. */
  readonly source: 'jwt' | 'introspection';
  /** Every claim, for what the SDK does not model. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** One link of a delegation chain: its `sub`, and the client or issuer it came through when the token says. */
export interface Actor {
  readonly subject: string;
  readonly clientId: string | undefined;
  readonly issuer: string | undefined;
}

/** How deep an `act` chain is read: a longer one is cut (a token is not a place for unbounded data). */
const MAX_ACTORS = 16;

/** RFC 8693 `act`, a nested object, as a list: outermost (current) actor first. */
export function actorChain(act: unknown): readonly Actor[] {
  const actors: Actor[] = [];
  for (
    let node = act;
    node !== null && typeof node === 'object' && !Array.isArray(node) && actors.length < MAX_ACTORS;
    node = (node as { act?: unknown }).act
  ) {
    const fields = node as Record<string, unknown>;
    actors.push(
      Object.freeze({
        subject: typeof fields.sub === 'string' ? fields.sub : '',
        clientId: firstString(fields.client_id),
        issuer: firstString(fields.iss),
      }),
    );
  }
  return Object.freeze(actors);
}

export interface AuthoritiesOptions {
  /** Claims that hold scopes, in order. Default `['scope', 'scp']`. */
  scopeClaims?: readonly string[];
  /** Claims that hold roles or permissions (Auth0 `permissions`, Entra `roles`). Default none. */
  roleClaims?: readonly string[];
  /** Prefix for scope authorities (`SCOPE_` for Spring-style). Default none. */
  scopePrefix?: string;
  /** Prefix for role authorities. Default none. */
  rolePrefix?: string;
}

/** A claim as a list of strings: space-separated string (RFC 8693 `scope`) or an array (`scp`, `roles`). */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

export function buildPrincipal(
  claims: Record<string, unknown>,
  options: { principalClaim: string; authorities: AuthoritiesOptions; source: Principal['source'] },
): Principal {
  // Runs for every verified token without a cache hit: plain loops, and no copies when there is
  // nothing to prefix or merge (the common case of one scope claim and no roles).
  const scopes = Object.freeze(distinctValues(claims, options.authorities.scopeClaims ?? DEFAULT_SCOPE_CLAIMS));
  const roles = options.authorities.roleClaims ? distinctValues(claims, options.authorities.roleClaims) : [];
  const scopePrefix = options.authorities.scopePrefix ?? '';
  const rolePrefix = options.authorities.rolePrefix ?? '';
  let authorities: readonly string[] = scopes;
  if (scopePrefix !== '' || roles.length > 0) {
    const merged: string[] = [];
    for (const scope of scopes) merged.push(scopePrefix + scope);
    for (const role of roles) if (!merged.includes(rolePrefix + role)) merged.push(rolePrefix + role);
    authorities = Object.freeze(merged);
  }
  const principalValue = claims[options.principalClaim] ?? claims.sub;
  return Object.freeze({
    subject: typeof principalValue === 'string' ? principalValue : String(principalValue ?? ''),
    clientId: firstString(claims.client_id, claims.azp, claims.appid, claims.cid),
    scopes,
    authorities,
    issuer: typeof claims.iss === 'string' ? claims.iss : undefined,
    audience: Object.freeze(claimValues(claims.aud)),
    expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined,
    issuedAt: typeof claims.iat === 'number' ? claims.iat : undefined,
    tokenId: typeof claims.jti === 'string' ? claims.jti : undefined,
    actors: claims.act === undefined ? NO_ACTORS : actorChain(claims.act),
    source: options.source,
    // The claims object is the verifier's own (freshly parsed, or its introspection cache entry): frozen, not copied.
    claims: Object.freeze(claims),
  });
}

const DEFAULT_SCOPE_CLAIMS: readonly string[] = ['scope', 'scp'];
const NO_ACTORS: readonly Actor[] = Object.freeze([]);

/** The values of several list claims, in order, each once. */
function distinctValues(claims: Record<string, unknown>, names: readonly string[]): string[] {
  let values: string[] | undefined;
  for (const name of names) {
    const found = claimValues(claims[name]);
    if (found.length === 0) continue;
    if (values === undefined) {
      values = found.length > 1 && new Set(found).size !== found.length ? [...new Set(found)] : found;
      continue;
    }
    for (const value of found) if (!values.includes(value)) values.push(value);
  }
  return values ?? [];
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string');
}
