import type { FederatedCredentialRecord, SubjectMatch, TokenReusePolicy, TrustedIssuerKind, TrustedIssuerRecord } from '../storage/types.js';

/**
 * The rules of workload identity federation that both sides need: the admin operations refuse a
 * trusted issuer or a federated credential that breaks them, and client authentication matches a
 * platform token against credentials with the same functions. Pure: no I/O, no clock.
 */

export const TRUSTED_ISSUER_KINDS: readonly TrustedIssuerKind[] = ['oidc', 'kubernetes', 'spiffe'];

/**
 * What a kind sets unless the operator says otherwise. Kubernetes and SPIFFE tokens are meant to be
 * reused for their lifetime (a projected token is re-read from its file, a JWT-SVID is cached by
 * the agent), and often carry no `jti`; a CI provider's OIDC token is minted per request.
 */
export const ISSUER_KIND_DEFAULTS: Readonly<Record<TrustedIssuerKind, { tokenReuse: TokenReusePolicy; maxTokenLifetimeSeconds: number }>> = {
  oidc: { tokenReuse: 'refuse', maxTokenLifetimeSeconds: 3600 },
  kubernetes: { tokenReuse: 'allow', maxTokenLifetimeSeconds: 3600 },
  spiffe: { tokenReuse: 'allow', maxTokenLifetimeSeconds: 3600 },
};

/** The most an operator may allow: a platform token older than a day is a credential, not an identity. */
export const MAX_TOKEN_LIFETIME_LIMIT_SECONDS = 86_400;
export const MIN_TOKEN_LIFETIME_LIMIT_SECONDS = 60;

/** Entra allows 20 per application; so do we: each one is a door into the client. */
export const MAX_FEDERATED_CREDENTIALS_PER_CLIENT = 20;

/**
 * Issuers every customer of a platform shares: a token of theirs names the tenant only in its
 * subject and claims, so trusting one without pinning the tenant trusts everyone on the platform.
 * They are marked shared when added (an operator can also mark any other issuer shared).
 */
export const KNOWN_SHARED_ISSUERS: readonly string[] = [
  'https://token.actions.githubusercontent.com',
  'https://gitlab.com',
  'https://app.terraform.io',
  'https://bitbucket.org',
  'https://accounts.google.com',
  'https://sts.windows.net',
];

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** draft-ietf-oauth-spiffe-client-auth: a JWT-SVID as the client assertion. */
export const JWT_SPIFFE_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe';

/**
 * Signature algorithms a platform token may use: asymmetric only. HS* would mean a secret shared
 * with the platform (and is the algorithm-confusion attack on a public key); `none` is no signature.
 */
export const FEDERATED_ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Why `url` cannot be fetched for keys or discovery (https, or http on loopback; no credentials,
 * no fragment), or undefined when it can.
 */
export function fetchableUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    return 'must use https (http only for a loopback host)';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.hash) return 'must not have a fragment';
  return undefined;
}

/** The trust domain of a SPIFFE ID or trust-domain URI (`spiffe://example.org/ns/x` → `example.org`). */
export function spiffeTrustDomain(value: string): string | undefined {
  const match = /^spiffe:\/\/([a-z0-9._-]+)(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/.exec(value);
  return match?.[1];
}

/** Why `issuer` cannot be a trusted issuer of `kind`, or undefined. */
export function trustedIssuerProblem(issuer: string, kind: TrustedIssuerKind): string | undefined {
  if (kind === 'spiffe') {
    const domain = spiffeTrustDomain(issuer);
    if (domain === undefined || issuer !== `spiffe://${domain}`) return 'a SPIFFE issuer is its trust domain, as spiffe://trust-domain (lowercase, no path)';
    return undefined;
  }
  const problem = fetchableUrlProblem(issuer);
  if (problem) return `issuer ${problem}`;
  if (new URL(issuer).search) return 'issuer must not have a query';
  return undefined;
}

/** The defaults an issuer added without them gets, from its kind and whether it is a known shared one. */
export function issuerDefaults(issuer: string, kind: TrustedIssuerKind): Pick<TrustedIssuerRecord, 'tokenReuse' | 'maxTokenLifetimeSeconds' | 'isShared'> {
  return { ...ISSUER_KIND_DEFAULTS[kind], isShared: KNOWN_SHARED_ISSUERS.includes(issuer.replace(/\/+$/, '')) };
}

/** Characters that separate the parts of a subject: `repo:org/name:ref:…`, `system:serviceaccount:ns:sa`, SPIFFE paths. */
const SEGMENT_SEPARATOR = /[:/]/;
/** A prefix must name at least this many parts, so `repo:` or `system:serviceaccount:` can never be one. */
export const MIN_PREFIX_SEGMENTS = 3;

/**
 * Why a credential's subject rule is unsafe, or undefined. Exact subjects are always fine (they
 * name one workload). A prefix is an explicit opt-in and must end at a separator and name at least
 * three non-empty parts (`repo:my-org/`, `system:serviceaccount:payments:`,
 * `spiffe://example.org/payments/`), and on a shared issuer it must also carry a claim condition
 * that pins the tenant — a prefix alone could still cover a customer's every repository or more.
 */
export function subjectRuleProblem(
  rule: Pick<FederatedCredentialRecord, 'subject' | 'subjectMatch' | 'claims'>,
  issuer: Pick<TrustedIssuerRecord, 'isShared' | 'kind' | 'issuer'>,
): string | undefined {
  const { subject, subjectMatch } = rule;
  if (subject.length === 0) return 'subject must not be empty';
  if (subject.includes('*')) return 'subject is matched literally: a wildcard is not allowed (use subject_match "prefix" with the literal start)';
  if (issuer.kind === 'spiffe') {
    const domain = spiffeTrustDomain(subject);
    if (domain === undefined || `spiffe://${domain}` !== issuer.issuer) return `a SPIFFE subject must be a SPIFFE ID in ${issuer.issuer}`;
  }
  if (subjectMatch === 'exact') return undefined;
  const parts = subject.split(SEGMENT_SEPARATOR);
  if (!SEGMENT_SEPARATOR.test(subject.slice(-1))) return 'a subject prefix must end at a separator (":" or "/")';
  const named = parts.filter((part) => part.length > 0).length;
  if (named < MIN_PREFIX_SEGMENTS) return `a subject prefix must name at least ${MIN_PREFIX_SEGMENTS} parts, so it can never cover a whole issuer`;
  if (issuer.isShared && Object.keys(rule.claims).length === 0) {
    return 'this issuer is shared by many tenants: a subject prefix on it also needs a claim condition that pins yours (e.g. repository_owner_id)';
  }
  return undefined;
}

export function subjectMatches(credential: Pick<FederatedCredentialRecord, 'subject' | 'subjectMatch'>, sub: string): boolean {
  return credential.subjectMatch === 'exact' ? credential.subject === sub : sub.startsWith(credential.subject);
}

export const SUBJECT_MATCHES: readonly SubjectMatch[] = ['exact', 'prefix'];
