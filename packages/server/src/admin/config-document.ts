import type {
  ApiScope,
  ClientAuthMethod,
  ClientQuota,
  SigningAlgorithm,
  SubjectMatch,
  TokenFormat,
  TrustedIssuerKind,
  TrustedIssuerRecord,
} from '../storage/types.js';
import { AdminError, isAdminError } from '../errors/admin-error.js';
import { echo } from '../errors/echo.js';
import { findUnstorable, UNSTORABLE_TEXT } from '../protocol/storable-text.js';
import { ADMIN_API_IDENTIFIER, ADMIN_TOKEN_TTL_SECONDS, RESERVED_IDENTIFIER_PREFIX, isReservedIdentifier } from './built-in-admin-api.js';
import { validateGrantScopes } from './grants.js';
import { DEFAULT_TOKEN_TTL_SECONDS } from '../protocol/limits.js';
import { MAX_FEDERATED_CREDENTIALS_PER_CLIENT } from '../federation/federation-rules.js';
import { federatedCredentialRule, trustedIssuerSettings, type FederatedCredentialRule, type TrustedIssuerSettings } from './federation-validation.js';
import { ADMIN_TARGET_REFUSAL, ANY_SUBJECT_CLIENT, isAdminTarget, validateScopeCeiling } from './exchange-policies.js';
import {
  resolveQuota,
  validateApiIdentifier,
  validateAuthMethods,
  validateBoolean,
  validateClientId,
  validateDescription,
  validateJwks,
  validateName,
  validateScopes,
  validateSigningAlg,
  validateTokenFormat,
  validateTokenTtl,
} from './validation.js';

import { CONFIG_ENTRY_FIELDS } from './resources/config-document.js';
import { checkTlsRegistration, validateSanDns, validateSubjectDn } from './tls-client-registration.js';

/**
 * The configuration document of `m2m-auth export` / `apply` (format version 1): its shape and JSON
 * Schema are defined with the resources (resources/config-document.ts); here the document is
 * checked the way apply needs it, every problem with its path.
 */
export type {
  ConfigApi,
  ConfigClient,
  ConfigDocument,
  ConfigExchangePolicy,
  ConfigFederatedCredential,
  ConfigGrant,
  ConfigTrustedIssuer,
} from './resources/config-document.js';

export const CONFIG_DOCUMENT_VERSION = 1;

/** A resource as the document wants it: validated, defaults filled in, with its place in the document. */
export interface DesiredApi {
  path: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  signingAlg: SigningAlgorithm;
  tokenTtlSeconds: number;
  tokenFormat: TokenFormat;
  requireSenderConstrained: boolean;
}

/** A trusted issuer as the document wants it: its settings with the kind's defaults. */
export interface DesiredTrustedIssuer extends TrustedIssuerSettings {
  path: string;
}

/** A federated credential of a document client, checked against the document's issuer it names. */
export interface DesiredFederatedCredential extends FederatedCredentialRule {
  path: string;
}

export interface DesiredClient {
  path: string;
  clientId: string | undefined;
  name: string;
  description: string;
  defaultApi: string | null;
  isEnabled: boolean;
  tokenEndpointAuthMethods: ClientAuthMethod[];
  jwks: { keys: Record<string, unknown>[] } | null;
  introspectApis: string[];
  /** null: no quota (an apply removes one the server has). */
  quota: ClientQuota | null;
  dpopBoundAccessTokens: boolean;
  /** null / []: none (an apply removes what the server has). */
  tlsClientAuthSubjectDn: string | null;
  tlsClientAuthSanDns: string[];
  tlsClientCertificateBoundAccessTokens: boolean;
  federatedCredentials: DesiredFederatedCredential[];
}

export interface DesiredGrant {
  path: string;
  /** The document client it belongs to. */
  client: DesiredClient;
  /** Set when `client` named the client by name: the name must then be unique on the server too. */
  byName: boolean;
  api: string;
  scopes: string[];
  tokenTtlSeconds: number | null;
}

/** How an entry names a client of the document; by name, the name must say which client it is on the server too. */
export interface ClientReference {
  /** Where the reference is written (`grants[2].client`). */
  path: string;
  client: DesiredClient;
  byName: boolean;
}

/** A token-exchange policy between clients of the document (or any client, or a document issuer's JWTs) on an API of the document. */
export interface DesiredExchangePolicy {
  path: string;
  client: ClientReference;
  /** `*`, a client of the document, or undefined when the subject is `subjectIssuer`. */
  subjectClient: typeof ANY_SUBJECT_CLIENT | ClientReference | undefined;
  subjectIssuer: string | undefined;
  api: string;
  scopes: string[] | null;
  description: string;
}

export interface DesiredConfig {
  /** Without the built-in admin API: accepted (export --include-admin writes it), never applied. */
  apis: DesiredApi[];
  trustedIssuers: DesiredTrustedIssuer[];
  clients: DesiredClient[];
  grants: DesiredGrant[];
  exchangePolicies: DesiredExchangePolicy[];
  /** Grants on the built-in admin API, whose scopes are checked against the server's. */
  referencesBuiltIn: { path: string; scopes: string[] }[];
}

export interface FieldError {
  path: string;
  message: string;
}

const MAX_LISTED_PROBLEMS = 50;

/** One error naming the problems of the document (the first 50), each at its path (`clients[3].name: …`). */
export function invalidDocument(errors: FieldError[]): AdminError {
  // A document can hold any number of mistakes; the answer names the first few, bounded.
  const lines = errors.slice(0, MAX_LISTED_PROBLEMS).map((error) => `  ${error.path}: ${error.message}`);
  if (errors.length > MAX_LISTED_PROBLEMS) lines.push(`  … and ${errors.length - MAX_LISTED_PROBLEMS} more`);
  return new AdminError('validation_failed', `The configuration document is invalid (nothing was changed):\n${lines.join('\n')}`, errors[0]?.path);
}

/**
 * Checks a parsed document (from YAML or JSON) on its own, without the server: shapes, values,
 * duplicates and references between its parts. Throws one validation error listing every problem.
 */
export function parseConfigDocument(value: unknown): DesiredConfig {
  if (!isObject(value)) throw invalidDocument([{ path: '(document)', message: 'must be a mapping with version, apis, trusted_issuers, clients and grants' }]);
  // Text no store can hold (a NUL byte) anywhere: refused here, so `apply` from a file refuses
  // it alike on every adapter instead of failing PostgreSQL's statement.
  const unstorable = findUnstorable(value);
  if (unstorable) {
    const path = unstorable.path
      .map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${echo(segment)}`))
      .join('')
      .replace(/^\./, '');
    throw invalidDocument([{ path: path || '(document)', message: `${unstorable.isKey ? 'a field name' : 'the value'} ${UNSTORABLE_TEXT}` }]);
  }
  const problems = createProblems();
  unknownKeys(value, '', ['$schema', 'version', 'apis', 'trusted_issuers', 'clients', 'grants', 'exchange_policies'], problems);
  if (value.version !== CONFIG_DOCUMENT_VERSION) problems.add('version', `must be ${CONFIG_DOCUMENT_VERSION} (the document format version)`);

  const apis = entriesAt(value, 'apis', problems).map(([entry, path]) => parseApi(entry, path, problems));
  const apisById = uniqueBy(apis, (api) => api.identifier, 'identifier', 'API', problems);
  /** Default APIs and grants name an API of the document, or the built-in admin API. */
  const knownApi = (identifier: string, path: string) => {
    const api = apisById.get(identifier);
    if (!api && identifier !== ADMIN_API_IDENTIFIER) problems.add(path, `${echo(identifier)} is not an API of this document (list it under apis)`);
    return api?.scopes ? { identifier, scopes: api.scopes } : undefined;
  };

  const issuers = entriesAt(value, 'trusted_issuers', problems).flatMap(([entry, path]) => parseTrustedIssuer(entry, path, problems));
  const issuersById = uniqueBy(issuers, (issuer) => issuer.issuer, 'issuer', 'trusted issuer', problems);
  /** Federated credentials name a trusted issuer of the document. */
  const knownIssuer: KnownIssuer = (issuer, path) => {
    const found = typeof issuer === 'string' ? issuersById.get(issuer) : undefined;
    if (!found)
      problems.add(path, `${typeof issuer === 'string' ? echo(issuer) : 'issuer'} is not a trusted issuer of this document (list it under trusted_issuers)`);
    return found;
  };

  const clients = entriesAt(value, 'clients', problems).map(([entry, path]) => parseClient(entry, path, problems, knownApi, knownIssuer));
  uniqueBy(
    clients.filter((client) => client.clientId !== undefined),
    (client) => client.clientId,
    'client_id',
    'client',
    problems,
  );
  // Client names are unique (admin/clients.ts), and entries without client_id are matched by name.
  uniqueBy(clients, (client) => client.name, 'name', 'client named', problems);

  const grants = entriesAt(value, 'grants', problems).flatMap(([entry, path]) => parseGrant(entry, path, problems, knownApi, clients));
  uniqueBy(
    grants,
    (grant) => `${grant.client.path} ${grant.api}`,
    'api',
    'grant for this client on',
    problems,
    (grant) => `${grant.client.name} → ${grant.api}`,
  );

  const policies = entriesAt(value, 'exchange_policies', problems).flatMap(([entry, path]) =>
    parseExchangePolicy(entry, path, problems, knownApi, knownIssuer, clients),
  );
  uniqueBy(
    policies,
    (policy) => `${policy.client.client.path}\n${subjectKey(policy)}\n${policy.api}`,
    'api',
    'exchange policy for this client and subject on',
    problems,
    (policy) => `${policy.client.client.name} ← ${subjectLabel(policy)} → ${policy.api}`,
  );

  if (problems.list.length > 0) throw invalidDocument(problems.list);
  return {
    apis: (apis as DesiredApi[]).filter((api) => api.identifier !== ADMIN_API_IDENTIFIER),
    trustedIssuers: issuers,
    clients: clients as DesiredClient[],
    grants: grants as DesiredGrant[],
    exchangePolicies: policies,
    referencesBuiltIn: grants.filter((grant) => grant.api === ADMIN_API_IDENTIFIER).map((grant) => ({ path: `${grant.path}.scopes`, scopes: grant.scopes! })),
  };
}

/** Every problem found, each at its path; the validators' own messages say what is wrong. */
interface Problems {
  list: FieldError[];
  add(path: string, message: string): void;
  /** Runs one of the admin validators; its error becomes a problem at `path`. */
  check<T>(path: string, validate: () => T): T | undefined;
  /** The same for a validator of a whole entry: the problem is at the field its error names (`path.field`). */
  checkEntry<T>(path: string, validate: () => T): T | undefined;
}

function createProblems(): Problems {
  const list: FieldError[] = [];
  return {
    list,
    add: (path, message) => void list.push({ path, message }),
    check(path, validate) {
      try {
        return validate();
      } catch (error) {
        if (!isAdminError(error)) throw error;
        list.push({ path, message: error.message });
        return undefined;
      }
    },
    checkEntry(path, validate) {
      try {
        return validate();
      } catch (error) {
        if (!isAdminError(error)) throw error;
        list.push({ path: error.field ? `${path}.${error.field}` : path, message: error.message });
        return undefined;
      }
    },
  };
}

type KnownApi = (identifier: string, path: string) => { identifier: string; scopes: ApiScope[] } | undefined;
type KnownIssuer = (issuer: unknown, path: string) => DesiredTrustedIssuer | undefined;
/** An entry as parsed: a field is undefined when its value was refused (and a problem recorded). */
type Partly<T> = { [K in keyof T]: T[K] | undefined } & { path: string };
type ParsedGrant = Omit<Partly<DesiredGrant>, 'client' | 'api'> & { client: Partly<DesiredClient>; api: string };

function parseApi(entry: Record<string, unknown>, path: string, problems: Problems): Partly<DesiredApi> {
  unknownKeys(entry, path, CONFIG_ENTRY_FIELDS.apis, problems);
  const identifier = problems.check(`${path}.identifier`, () => validateApiIdentifier(entry.identifier));
  if (identifier !== undefined && isReservedIdentifier(identifier) && identifier !== ADMIN_API_IDENTIFIER) {
    problems.add(`${path}.identifier`, `identifiers starting with ${RESERVED_IDENTIFIER_PREFIX} are reserved for m2m-auth`);
  }
  return {
    path,
    identifier,
    name: entry.name === undefined ? identifier : problems.check(`${path}.name`, () => validateName(entry.name)),
    scopes: problems.check(`${path}.scopes`, () => validateScopes(entry.scopes ?? [])),
    signingAlg: problems.check(`${path}.signing_alg`, () => validateSigningAlg(entry.signing_alg ?? 'RS256')),
    tokenTtlSeconds: problems.check(`${path}.token_ttl_seconds`, () =>
      validateTokenTtl(entry.token_ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS, 'token_ttl_seconds'),
    ),
    tokenFormat: problems.check(`${path}.token_format`, () => validateTokenFormat(entry.token_format ?? 'jwt', 'token_format')),
    requireSenderConstrained: problems.check(`${path}.require_sender_constrained`, () =>
      validateBoolean(entry.require_sender_constrained ?? false, 'require_sender_constrained'),
    ),
  };
}

/** An issuer entry, in the wire names of the admin API; the validators name the field at fault. */
function parseTrustedIssuer(entry: Record<string, unknown>, path: string, problems: Problems): DesiredTrustedIssuer[] {
  unknownKeys(entry, path, CONFIG_ENTRY_FIELDS.trusted_issuers, problems);
  const settings = problems.checkEntry(path, () =>
    trustedIssuerSettings({
      issuer: entry.issuer as string,
      ...(entry.kind !== undefined ? { kind: entry.kind as TrustedIssuerKind } : {}),
      ...(entry.jwks_uri !== undefined ? { jwksUri: entry.jwks_uri as string | null } : {}),
      ...(entry.jwks !== undefined ? { jwks: entry.jwks as TrustedIssuerRecord['jwks'] } : {}),
      ...(entry.token_reuse !== undefined ? { tokenReuse: entry.token_reuse as TrustedIssuerRecord['tokenReuse'] } : {}),
      ...(entry.max_token_lifetime_seconds !== undefined ? { maxTokenLifetimeSeconds: entry.max_token_lifetime_seconds as number } : {}),
      ...(entry.shared !== undefined ? { isShared: entry.shared as boolean } : {}),
    }),
  );
  return settings ? [{ path, ...settings }] : [];
}

/** A client's federated credentials: each against the document issuer it names, at most 20, none twice. */
function parseFederatedCredentials(entry: Record<string, unknown>, path: string, problems: Problems, knownIssuer: KnownIssuer) {
  const entries = entriesAt(entry, 'federated_credentials', problems, path);
  if (entries.length > MAX_FEDERATED_CREDENTIALS_PER_CLIENT) {
    problems.add(`${path}.federated_credentials`, `a client may have at most ${MAX_FEDERATED_CREDENTIALS_PER_CLIENT} federated credentials`);
  }
  const credentials = entries.flatMap(([credential, at]): DesiredFederatedCredential[] => {
    unknownKeys(credential, at, CONFIG_ENTRY_FIELDS.federated_credentials, problems);
    const issuer = knownIssuer(credential.issuer, `${at}.issuer`);
    if (!issuer) return [];
    const rule = problems.checkEntry(at, () =>
      federatedCredentialRule(
        {
          issuer: issuer.issuer,
          subject: credential.subject as string,
          ...(credential.subject_match !== undefined ? { subjectMatch: credential.subject_match as SubjectMatch } : {}),
          ...(credential.audiences !== undefined ? { audiences: credential.audiences as string[] } : {}),
          ...(credential.claims !== undefined ? { claims: credential.claims as Record<string, string> } : {}),
          ...(credential.description !== undefined ? { description: credential.description as string } : {}),
        },
        issuer,
      ),
    );
    return rule ? [{ path: at, ...rule }] : [];
  });
  uniqueBy(
    credentials,
    (credential) => federatedCredentialKey(credential),
    'subject',
    'federated credential',
    problems,
    (credential) => `${credential.issuer} ${credential.subject}`,
  );
  return credentials;
}

/** What identifies a federated credential of a client, in a document and on the server alike. */
export const federatedCredentialKey = (credential: Pick<DesiredFederatedCredential, 'issuer' | 'subject' | 'subjectMatch'>) =>
  `${credential.issuer}\n${credential.subject}\n${credential.subjectMatch}`;

function parseClient(entry: Record<string, unknown>, path: string, problems: Problems, knownApi: KnownApi, knownIssuer: KnownIssuer): Partly<DesiredClient> {
  unknownKeys(entry, path, CONFIG_ENTRY_FIELDS.clients, problems);
  const introspectApis = problems.check(`${path}.introspect_apis`, () => asStringList(entry.introspect_apis ?? []));
  for (const identifier of introspectApis ?? []) if (identifier !== '*') knownApi(identifier, `${path}.introspect_apis`);
  const jwks = entry.jwks == null ? null : problems.check(`${path}.jwks`, () => validateJwks(entry.jwks));
  // The same defaults as creating a client: private_key_jwt with keys, secrets otherwise.
  const methods = problems.check(`${path}.token_endpoint_auth_methods`, () =>
    validateAuthMethods(entry.token_endpoint_auth_methods ?? (jwks ? ['private_key_jwt'] : ['client_secret_basic', 'client_secret_post'])),
  );
  if (methods?.includes('private_key_jwt') && !jwks) problems.add(`${path}.jwks`, 'private_key_jwt needs the client public keys (jwks)');
  const tlsClientAuthSubjectDn =
    entry.tls_client_auth_subject_dn == null
      ? null
      : (problems.check(`${path}.tls_client_auth_subject_dn`, () => validateSubjectDn(entry.tls_client_auth_subject_dn)) ?? null);
  const tlsClientAuthSanDns = problems.check(`${path}.tls_client_auth_san_dns`, () => validateSanDns(entry.tls_client_auth_san_dns ?? [])) ?? [];
  if (methods && jwks !== undefined) {
    problems.check(path, () => checkTlsRegistration({ tokenEndpointAuthMethods: methods, jwks, tlsClientAuthSubjectDn, tlsClientAuthSanDns }));
  }
  if (entry.default_api != null && typeof entry.default_api !== 'string')
    problems.add(`${path}.default_api`, 'default_api must be the identifier of an API of the document, or null');
  const defaultApi = typeof entry.default_api === 'string' ? entry.default_api : null;
  if (defaultApi !== null) knownApi(defaultApi, `${path}.default_api`);
  return {
    path,
    clientId: entry.client_id === undefined ? undefined : problems.check(`${path}.client_id`, () => validateClientId(entry.client_id)),
    name: problems.check(`${path}.name`, () => validateName(entry.name)),
    description: problems.check(`${path}.description`, () => validateDescription(entry.description ?? '')),
    defaultApi,
    isEnabled: problems.check(`${path}.enabled`, () => validateBoolean(entry.enabled ?? true, 'enabled')),
    tokenEndpointAuthMethods: methods,
    jwks,
    introspectApis,
    quota: problems.check(`${path}.quota`, () => parseQuota(entry.quota)),
    dpopBoundAccessTokens: problems.check(`${path}.dpop_bound_access_tokens`, () =>
      validateBoolean(entry.dpop_bound_access_tokens ?? false, 'dpop_bound_access_tokens'),
    ),
    tlsClientAuthSubjectDn,
    tlsClientAuthSanDns,
    tlsClientCertificateBoundAccessTokens: problems.check(`${path}.tls_client_certificate_bound_access_tokens`, () =>
      validateBoolean(entry.tls_client_certificate_bound_access_tokens ?? false, 'tls_client_certificate_bound_access_tokens'),
    ),
    federatedCredentials: parseFederatedCredentials(entry, path, problems, knownIssuer),
  };
}

/** `quota: {per_hour, per_day, mode}` as the admin API takes it; absent or null: none. */
function parseQuota(value: unknown): ClientQuota | null {
  if (value == null) return null;
  if (!isObject(value)) throw new AdminError('validation_failed', 'quota must be a mapping with per_hour, per_day and mode');
  const unknown = Object.keys(value).filter((key) => !['per_hour', 'per_day', 'mode'].includes(key));
  if (unknown.length > 0) throw new AdminError('validation_failed', `unknown field ${echo(unknown[0]!)} (quota takes per_hour, per_day and mode)`);
  return resolveQuota(undefined, {
    perHour: (value.per_hour ?? null) as number | null,
    perDay: (value.per_day ?? null) as number | null,
    ...(value.mode !== undefined ? { mode: value.mode as ClientQuota['mode'] } : {}),
  });
}

function parseGrant(entry: Record<string, unknown>, path: string, problems: Problems, knownApi: KnownApi, clients: Partly<DesiredClient>[]): ParsedGrant[] {
  unknownKeys(entry, path, CONFIG_ENTRY_FIELDS.grants, problems);
  const reference = resolveClient(entry.client, `${path}.client`, clients, problems);
  if (typeof entry.api !== 'string') problems.add(`${path}.api`, 'api must be the identifier of an API of the document');
  const apiIdentifier = typeof entry.api === 'string' ? entry.api : undefined;
  const api = apiIdentifier === undefined ? undefined : knownApi(apiIdentifier, `${path}.api`);
  // Scopes of the built-in admin API are checked against the server's when planning.
  const scopes = problems.check(`${path}.scopes`, () => (api ? validateGrantScopes(api, entry.scopes ?? []) : asStringList(entry.scopes ?? [])));
  const tokenTtlSeconds =
    entry.token_ttl_seconds == null ? null : problems.check(`${path}.token_ttl_seconds`, () => validateTokenTtl(entry.token_ttl_seconds, 'token_ttl_seconds'));
  if (apiIdentifier === ADMIN_API_IDENTIFIER && tokenTtlSeconds != null && tokenTtlSeconds > ADMIN_TOKEN_TTL_SECONDS) {
    problems.add(`${path}.token_ttl_seconds`, `admin tokens live at most ${ADMIN_TOKEN_TTL_SECONDS} seconds`);
  }
  if (!reference || apiIdentifier === undefined) return [];
  return [{ path, client: reference.client, byName: reference.byName, api: apiIdentifier, scopes, tokenTtlSeconds }];
}

/**
 * A policy entry: its clients are the document's (by client_id or name), its subject one of them,
 * `*` or a trusted issuer of the document, its API one of the document's (never the admin API), its
 * scope ceiling scopes of that API.
 */
function parseExchangePolicy(
  entry: Record<string, unknown>,
  path: string,
  problems: Problems,
  knownApi: KnownApi,
  knownIssuer: KnownIssuer,
  clients: Partly<DesiredClient>[],
): DesiredExchangePolicy[] {
  unknownKeys(entry, path, CONFIG_ENTRY_FIELDS.exchange_policies, problems);
  const reference = (field: string) => {
    const found = resolveClient(entry[field], `${path}.${field}`, clients, problems);
    return found && { path: `${path}.${field}`, client: found.client as DesiredClient, byName: found.byName };
  };
  const client = reference('client');
  let subjectClient: DesiredExchangePolicy['subjectClient'];
  let subjectIssuer: string | undefined;
  let isSubjectValid = true;
  if ((entry.subject_client === undefined) === (entry.subject_issuer === undefined)) {
    problems.add(path, 'an exchange policy names exactly one subject: subject_client (a client of the document, or *) or subject_issuer');
    isSubjectValid = false;
  } else if (entry.subject_client === ANY_SUBJECT_CLIENT) {
    subjectClient = ANY_SUBJECT_CLIENT;
  } else if (entry.subject_client !== undefined) {
    subjectClient = reference('subject_client');
    isSubjectValid = subjectClient !== undefined;
  } else {
    subjectIssuer = knownIssuer(entry.subject_issuer, `${path}.subject_issuer`)?.issuer;
    isSubjectValid = subjectIssuer !== undefined;
  }
  let api: ReturnType<KnownApi>;
  const apiIdentifier = typeof entry.api === 'string' ? entry.api : undefined;
  if (apiIdentifier === undefined) problems.add(`${path}.api`, 'api must be the identifier of an API of the document');
  else if (isAdminTarget(apiIdentifier)) problems.add(`${path}.api`, ADMIN_TARGET_REFUSAL);
  else api = knownApi(apiIdentifier, `${path}.api`);
  const scopes = entry.scopes == null ? null : api ? problems.check(`${path}.scopes`, () => validateScopeCeiling(api, entry.scopes)) : undefined;
  const description = problems.check(`${path}.description`, () => validateDescription(entry.description ?? ''));
  if (!client || !isSubjectValid || !api || scopes === undefined || description === undefined) return [];
  return [{ path, client, subjectClient, subjectIssuer, api: api.identifier, scopes, description }];
}

/** What identifies a policy's subject within the document: the client entry, `*` or the issuer. */
const subjectKey = (policy: Pick<DesiredExchangePolicy, 'subjectClient' | 'subjectIssuer'>) =>
  policy.subjectClient === undefined ? `issuer ${policy.subjectIssuer}` : policy.subjectClient === ANY_SUBJECT_CLIENT ? '*' : policy.subjectClient.client.path;

/** How plans and problems name a policy's subject: a client's name, `*` or the issuer. */
export const subjectLabel = (policy: Pick<DesiredExchangePolicy, 'subjectClient' | 'subjectIssuer'>) =>
  policy.subjectClient === undefined ? policy.subjectIssuer! : policy.subjectClient === ANY_SUBJECT_CLIENT ? '*' : policy.subjectClient.client.name;

/** A grant's client: the document client with that client_id, or else the one with that name. */
function resolveClient(reference: unknown, path: string, clients: Partly<DesiredClient>[], problems: Problems) {
  if (typeof reference !== 'string' || reference.length === 0) {
    problems.add(path, 'client must be the client_id or the name of a client of the document');
    return undefined;
  }
  const byId = clients.filter((client) => client.clientId === reference);
  const byName = clients.filter((client) => client.name === reference);
  if (byId.length === 1 && byName.every((client) => client === byId[0])) return { client: byId[0]!, byName: false };
  if (byId.length === 0 && byName.length === 1) return { client: byName[0]!, byName: true };
  if (byId.length + byName.length === 0) problems.add(path, `no client of the document has the client_id or name ${JSON.stringify(echo(reference))}`);
  else
    problems.add(path, `${JSON.stringify(echo(reference))} names ${byId.length + byName.length} clients of the document; refer to the client by its client_id`);
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The mappings of one section (of the document, or of the entry at `parent`) with their paths (`clients[3]`); anything else is a problem. */
function entriesAt(document: Record<string, unknown>, key: string, problems: Problems, parent?: string): [Record<string, unknown>, string][] {
  const list = document[key];
  const at = parent === undefined ? key : `${parent}.${key}`;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return (problems.add(at, 'must be a list'), []);
  return list.flatMap((entry: unknown, index): [Record<string, unknown>, string][] => {
    if (isObject(entry)) return [[entry, `${at}[${index}]`]];
    problems.add(`${at}[${index}]`, 'must be a mapping');
    return [];
  });
}

function unknownKeys(entry: Record<string, unknown>, path: string, known: string[], problems: Problems) {
  for (const key of Object.keys(entry)) {
    // The name is the caller's: bounded and withheld when it looks like a credential.
    if (!known.includes(key)) problems.add(path ? `${path}.${echo(key)}` : echo(key), `unknown field (expected one of ${known.join(', ')})`);
  }
}

function asStringList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    throw new AdminError('validation_failed', 'scopes must be a list of scope names');
  return [...new Set(value as string[])];
}

/** Reports every entry after the first that repeats a key, and indexes the entries by key. */
function uniqueBy<T extends { path: string }>(
  entries: T[],
  keyOf: (entry: T) => string | undefined,
  field: string,
  what: string,
  problems: Problems,
  label: (entry: T) => string | undefined = keyOf,
): Map<string, T> {
  const seen = new Map<string, T>();
  for (const entry of entries) {
    const key = keyOf(entry);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (first) problems.add(`${entry.path}.${field}`, `a second ${what} ${echo(label(entry) ?? '')} (the first is ${first.path})`);
    else seen.set(key, entry);
  }
  return seen;
}
