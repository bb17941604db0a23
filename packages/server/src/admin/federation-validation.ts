import { createPublicKey, type JsonWebKey } from 'node:crypto';
import type { SubjectMatch, TokenReusePolicy, TrustedIssuerKind, TrustedIssuerRecord } from '../storage/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { echo } from '../errors/echo.js';
import {
  fetchableUrlProblem,
  issuerDefaults,
  KNOWN_SHARED_ISSUERS,
  MAX_TOKEN_LIFETIME_LIMIT_SECONDS,
  MIN_TOKEN_LIFETIME_LIMIT_SECONDS,
  subjectRuleProblem,
  SUBJECT_MATCHES,
  TRUSTED_ISSUER_KINDS,
  trustedIssuerProblem,
} from '../federation/federation-rules.js';
import { validateBoolean, validateDescription, validateJwks } from './validation.js';

/**
 * The admin side of workload identity federation's rules: what a trusted issuer or a federated
 * credential must be before it is stored, with the wire names operators see in every problem. The
 * rules themselves (URLs, kinds, subject prefixes) are federation/federation-rules.ts, shared with
 * client authentication; here they are applied to what an operator sent, and defaults filled in.
 * The operations, `apply` and its document parser all call these, so every front end refuses alike.
 */

/** A cluster's JWKS holds a few keys, a SPIFFE bundle a few more: 100 is far beyond either. */
export const MAX_ISSUER_JWKS_KEYS = 100;
export const MAX_ISSUER_CHARS = 512;
export const MAX_JWKS_URI_CHARS = 2048;
/** A SPIFFE ID may be 2,048 bytes long; CI and Kubernetes subjects are far shorter. */
export const MAX_SUBJECT_CHARS = 2048;
export const MAX_AUDIENCES = 10;
export const MAX_AUDIENCE_CHARS = 512;
export const MAX_CLAIM_CONDITIONS = 10;
export const MAX_CLAIM_NAME_CHARS = 128;
export const MAX_CLAIM_VALUE_CHARS = 512;
/** Claims the credential checks by itself (issuer, subject, audiences) or every token check owns. */
export const RESERVED_CLAIM_NAMES = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'];
export const TOKEN_REUSE_POLICIES: readonly TokenReusePolicy[] = ['refuse', 'allow'];

/** A trusted issuer as an operator sets it: everything but the times. */
export type TrustedIssuerSettings = Omit<TrustedIssuerRecord, 'createdAt' | 'updatedAt'>;

export interface TrustedIssuerInput {
  issuer: string;
  kind?: TrustedIssuerKind;
  jwksUri?: string | null;
  jwks?: { keys: Record<string, unknown>[] } | null;
  tokenReuse?: TokenReusePolicy;
  maxTokenLifetimeSeconds?: number;
  isShared?: boolean;
}
export type TrustedIssuerChange = Omit<TrustedIssuerInput, 'issuer' | 'kind'>;

/** A new issuer's settings: each field checked, the kind's defaults (issuerDefaults) where it gave none. */
export function trustedIssuerSettings(input: TrustedIssuerInput): TrustedIssuerSettings {
  const kind = input.kind === undefined ? 'oidc' : validateIssuerKind(input.kind);
  const issuer = validateIssuer(input.issuer, kind);
  const defaults = issuerDefaults(issuer, kind);
  return checkedSettings({
    issuer,
    kind,
    jwksUri: input.jwksUri == null ? null : validateJwksUri(input.jwksUri),
    jwks: input.jwks == null ? null : validateIssuerJwks(input.jwks),
    tokenReuse: input.tokenReuse === undefined ? defaults.tokenReuse : validateTokenReuse(input.tokenReuse),
    maxTokenLifetimeSeconds:
      input.maxTokenLifetimeSeconds === undefined ? defaults.maxTokenLifetimeSeconds : validateMaxTokenLifetime(input.maxTokenLifetimeSeconds),
    isShared: input.isShared === undefined ? defaults.isShared : validateBoolean(input.isShared, 'shared'),
  });
}

/** An issuer's settings after a change: the fields given checked, the rest kept. Kind and issuer never change. */
export function changedIssuerSettings(before: TrustedIssuerSettings, change: TrustedIssuerChange): TrustedIssuerSettings {
  return checkedSettings({
    issuer: before.issuer,
    kind: before.kind,
    jwksUri: change.jwksUri === undefined ? before.jwksUri : change.jwksUri === null ? null : validateJwksUri(change.jwksUri),
    jwks: change.jwks === undefined ? before.jwks : change.jwks === null ? null : validateIssuerJwks(change.jwks),
    tokenReuse: change.tokenReuse === undefined ? before.tokenReuse : validateTokenReuse(change.tokenReuse),
    maxTokenLifetimeSeconds:
      change.maxTokenLifetimeSeconds === undefined ? before.maxTokenLifetimeSeconds : validateMaxTokenLifetime(change.maxTokenLifetimeSeconds),
    isShared: change.isShared === undefined ? before.isShared : validateBoolean(change.isShared, 'shared'),
  });
}

/** The rules between fields, on the settings as they would be stored. */
function checkedSettings(settings: TrustedIssuerSettings): TrustedIssuerSettings {
  if (settings.jwks && settings.jwksUri !== null) {
    throw validationFailed('jwks', 'jwks and jwks_uri are mutually exclusive: keys are given inline or fetched, not both (set the other to null)');
  }
  if (settings.kind === 'spiffe' && !settings.jwks && settings.jwksUri === null) {
    throw validationFailed('jwks', 'a SPIFFE trust domain has no discovery document: give its bundle (jwks) or the URL it is served at (jwks_uri)');
  }
  if (!settings.isShared && KNOWN_SHARED_ISSUERS.includes(settings.issuer.replace(/\/+$/, ''))) {
    throw validationFailed('shared', `${settings.issuer} is shared by every customer of its platform: it cannot be marked not shared`);
  }
  return settings;
}

export function validateIssuerKind(value: unknown): TrustedIssuerKind {
  if (!TRUSTED_ISSUER_KINDS.includes(value as TrustedIssuerKind)) throw validationFailed('kind', `kind must be one of ${TRUSTED_ISSUER_KINDS.join(', ')}`);
  return value as TrustedIssuerKind;
}

export function validateIssuer(value: unknown, kind: TrustedIssuerKind): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ISSUER_CHARS) {
    throw validationFailed('issuer', `issuer must be the iss of the platform's tokens, at most ${MAX_ISSUER_CHARS} characters`);
  }
  const problem = trustedIssuerProblem(value, kind);
  if (problem) {
    const hint = kind !== 'spiffe' && value.startsWith('spiffe:') ? ' (for a SPIFFE trust domain, set kind spiffe)' : '';
    throw validationFailed('issuer', `${problem}${hint} (got ${JSON.stringify(echo(value))})`);
  }
  return value;
}

export function validateJwksUri(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_JWKS_URI_CHARS) {
    throw validationFailed('jwks_uri', `jwks_uri must be a URL of at most ${MAX_JWKS_URI_CHARS} characters`);
  }
  const problem = fetchableUrlProblem(value);
  if (problem) throw validationFailed('jwks_uri', `jwks_uri ${problem}`);
  return value;
}

/**
 * Keys given inline: public keys only (no private member, no symmetric `oct` key), each one a key
 * this server can import, no kid twice (a token names its key by kid), at most 100.
 */
export function validateIssuerJwks(value: unknown): { keys: Record<string, unknown>[] } {
  const jwks = validateJwks(value, { maxKeys: MAX_ISSUER_JWKS_KEYS, field: 'jwks', allowsCertificates: true });
  const kids = new Set<unknown>();
  jwks.keys.forEach((key, index) => {
    try {
      createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    } catch {
      throw validationFailed('jwks', `jwks.keys[${index}] is not a usable ${String(key.kty)} public key`);
    }
    if (key.kid === undefined) return;
    if (kids.has(key.kid)) throw validationFailed('jwks', `jwks.keys[${index}].kid ${JSON.stringify(echo(String(key.kid)))} is used by an earlier key`);
    kids.add(key.kid);
  });
  return jwks;
}

export function validateTokenReuse(value: unknown): TokenReusePolicy {
  if (!TOKEN_REUSE_POLICIES.includes(value as TokenReusePolicy)) throw validationFailed('token_reuse', 'token_reuse must be refuse or allow');
  return value as TokenReusePolicy;
}

export function validateMaxTokenLifetime(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_TOKEN_LIFETIME_LIMIT_SECONDS || value > MAX_TOKEN_LIFETIME_LIMIT_SECONDS) {
    throw validationFailed(
      'max_token_lifetime_seconds',
      `max_token_lifetime_seconds must be a whole number of seconds from ${MIN_TOKEN_LIFETIME_LIMIT_SECONDS} to ${MAX_TOKEN_LIFETIME_LIMIT_SECONDS}`,
    );
  }
  return value;
}

export interface FederatedCredentialInput {
  issuer: string;
  subject: string;
  subjectMatch?: SubjectMatch;
  audiences?: string[];
  claims?: Record<string, string>;
  description?: string;
}

/** What a credential says, checked against the issuer it names (subject rules depend on it). */
export type FederatedCredentialRule = Required<FederatedCredentialInput>;

export function federatedCredentialRule(
  input: FederatedCredentialInput,
  issuer: Pick<TrustedIssuerRecord, 'issuer' | 'kind' | 'isShared'>,
): FederatedCredentialRule {
  const subjectMatch = input.subjectMatch === undefined ? 'exact' : validateSubjectMatch(input.subjectMatch);
  if (typeof input.subject !== 'string' || input.subject.length > MAX_SUBJECT_CHARS) {
    throw validationFailed('subject', `subject must be a string of at most ${MAX_SUBJECT_CHARS} characters`);
  }
  const rule = {
    issuer: issuer.issuer,
    subject: input.subject,
    subjectMatch,
    audiences: validateAudiences(input.audiences ?? []),
    claims: validateClaimConditions(input.claims ?? {}),
    description: validateDescription(input.description ?? ''),
  };
  const problem = subjectRuleProblem(rule, issuer);
  if (problem) throw validationFailed('subject', problem);
  return rule;
}

export function validateSubjectMatch(value: unknown): SubjectMatch {
  if (!SUBJECT_MATCHES.includes(value as SubjectMatch)) throw validationFailed('subject_match', 'subject_match must be exact or prefix');
  return value as SubjectMatch;
}

export function validateAudiences(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_AUDIENCES) {
    throw validationFailed('audiences', `audiences must be a list of at most ${MAX_AUDIENCES} values (empty: this server's issuer identifier)`);
  }
  for (const audience of value) {
    if (typeof audience !== 'string' || audience.length === 0 || audience.length > MAX_AUDIENCE_CHARS) {
      throw validationFailed('audiences', `each audience must be a non-empty string of at most ${MAX_AUDIENCE_CHARS} characters`);
    }
  }
  return [...new Set(value as string[])];
}

export function validateClaimConditions(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationFailed('claims', 'claims must be a mapping of claim names to the exact string values the token must carry');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_CLAIM_CONDITIONS) throw validationFailed('claims', `claims may hold at most ${MAX_CLAIM_CONDITIONS} conditions`);
  for (const [name, expected] of entries) {
    if (name.length === 0 || name.length > MAX_CLAIM_NAME_CHARS) {
      throw validationFailed('claims', `a claim name must be 1 to ${MAX_CLAIM_NAME_CHARS} characters`);
    }
    if (RESERVED_CLAIM_NAMES.includes(name)) {
      throw validationFailed(
        'claims',
        `claim ${name} cannot be a condition: the credential checks it itself (issuer, subject, audiences) or every token's is checked`,
      );
    }
    if (typeof expected !== 'string' || expected.length === 0 || expected.length > MAX_CLAIM_VALUE_CHARS) {
      throw validationFailed(
        'claims',
        `claim ${JSON.stringify(echo(name))} must be a non-empty string of at most ${MAX_CLAIM_VALUE_CHARS} characters (quote numbers: "123")`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
