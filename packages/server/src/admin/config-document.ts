import type { ApiScope, ClientAuthMethod, SigningAlgorithm } from '../storage/types.js';
import { AdminError, isAdminError } from '../errors/admin-error.js';
import { ADMIN_API_IDENTIFIER, RESERVED_IDENTIFIER_PREFIX } from './built-in-admin-api.js';
import { validateGrantScopes } from './grants.js';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  validateApiIdentifier,
  validateAuthMethods,
  validateBoolean,
  validateClientId,
  validateDescription,
  validateJwks,
  validateName,
  validateScopes,
  validateSigningAlg,
  validateTokenTtl,
} from './validation.js';

/**
 * The configuration document of `m2m-auth export` / `apply` (format version 1), in the external
 * snake_case shape of the admin views. A field left out takes the value `create` would give it, so
 * the document describes the whole of each resource it lists. Secrets are never part of it.
 */
export interface ConfigDocument {
  version: 1;
  apis?: ConfigApi[];
  clients?: ConfigClient[];
  grants?: ConfigGrant[];
}

export interface ConfigApi {
  identifier: string;
  name?: string;
  scopes?: (string | ApiScope)[];
  signing_alg?: SigningAlgorithm;
  token_ttl_seconds?: number;
}

export interface ConfigClient {
  /** Matched by client_id when given (kept when created), by name otherwise. */
  client_id?: string;
  name: string;
  description?: string;
  default_api?: string | null;
  enabled?: boolean;
  token_endpoint_auth_methods?: ClientAuthMethod[];
  jwks?: { keys: Record<string, unknown>[] } | null;
}

export interface ConfigGrant {
  /** A client of the document, by client_id or by (unique) name. */
  client: string;
  api: string;
  scopes?: string[];
  token_ttl_seconds?: number | null;
}

export const CONFIG_DOCUMENT_VERSION = 1;

/** A resource as the document wants it: validated, defaults filled in, with its place in the document. */
export interface DesiredApi {
  path: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  signingAlg: SigningAlgorithm;
  tokenTtlSeconds: number;
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

export interface DesiredConfig {
  apis: DesiredApi[];
  /** Entries for the built-in admin API: accepted (export --include-admin writes one) and never applied. */
  builtInApis: string[];
  clients: DesiredClient[];
  grants: DesiredGrant[];
  /** Grants on the built-in admin API, whose scopes are checked against the server's. */
  referencesBuiltIn: { path: string; scopes: string[] }[];
}

export interface FieldError {
  path: string;
  message: string;
}

/** One error naming every problem of the document, each at its path (`clients[3].name: …`). */
export function invalidDocument(errors: FieldError[]): AdminError {
  const lines = errors.map((error) => `  ${error.path}: ${error.message}`);
  return new AdminError('validation_failed', `The configuration document is invalid (nothing was changed):\n${lines.join('\n')}`, errors[0]?.path);
}

/**
 * Checks a parsed document (from YAML or JSON) on its own, without the server: shapes, values,
 * duplicates and references between its parts. Throws one validation error listing every problem.
 */
export function parseConfigDocument(value: unknown): DesiredConfig {
  const errors: FieldError[] = [];
  const check = <T>(path: string, validate: () => T): T | undefined => {
    try {
      return validate();
    } catch (error) {
      if (!isAdminError(error)) throw error;
      errors.push({ path, message: error.message });
      return undefined;
    }
  };

  if (!isObject(value)) throw invalidDocument([{ path: '(document)', message: 'must be a mapping with version, apis, clients and grants' }]);
  unknownKeys(value, '', ['$schema', 'version', 'apis', 'clients', 'grants'], errors);
  if (value.version !== CONFIG_DOCUMENT_VERSION) errors.push({ path: 'version', message: `must be ${CONFIG_DOCUMENT_VERSION} (the document format version)` });

  const apis = listAt(value, 'apis', errors).flatMap((entry, index) => {
    const path = `apis[${index}]`;
    if (!isObject(entry)) return (errors.push({ path, message: 'must be a mapping' }), []);
    unknownKeys(entry, path, ['identifier', 'name', 'scopes', 'signing_alg', 'token_ttl_seconds'], errors);
    const identifier = check(`${path}.identifier`, () => validateApiIdentifier(entry.identifier));
    if (identifier?.startsWith(RESERVED_IDENTIFIER_PREFIX) && identifier !== ADMIN_API_IDENTIFIER) {
      errors.push({ path: `${path}.identifier`, message: `identifiers starting with ${RESERVED_IDENTIFIER_PREFIX} are reserved for m2m-auth` });
    }
    const api = {
      path,
      identifier,
      name: entry.name === undefined ? identifier : check(`${path}.name`, () => validateName(entry.name)),
      scopes: check(`${path}.scopes`, () => validateScopes(entry.scopes ?? [])),
      signingAlg: check(`${path}.signing_alg`, () => validateSigningAlg(entry.signing_alg ?? 'RS256')),
      tokenTtlSeconds: check(`${path}.token_ttl_seconds`, () => validateTokenTtl(entry.token_ttl_seconds ?? DEFAULT_TOKEN_TTL_SECONDS, 'token_ttl_seconds')),
    };
    return [api];
  });
  const apisById = uniqueBy(apis, (api) => api.identifier, 'identifier', 'API', errors);

  const clients = listAt(value, 'clients', errors).flatMap((entry, index) => {
    const path = `clients[${index}]`;
    if (!isObject(entry)) return (errors.push({ path, message: 'must be a mapping' }), []);
    unknownKeys(entry, path, ['client_id', 'name', 'description', 'default_api', 'enabled', 'token_endpoint_auth_methods', 'jwks'], errors);
    const jwks = entry.jwks == null ? null : check(`${path}.jwks`, () => validateJwks(entry.jwks));
    const methods = check(`${path}.token_endpoint_auth_methods`, () =>
      validateAuthMethods(entry.token_endpoint_auth_methods ?? (jwks ? ['private_key_jwt'] : ['client_secret_basic', 'client_secret_post'])),
    );
    if (methods?.includes('private_key_jwt') && !jwks) errors.push({ path: `${path}.jwks`, message: 'private_key_jwt needs the client public keys (jwks)' });
    const defaultApi = entry.default_api == null ? null : String(entry.default_api);
    if (defaultApi !== null) knownApi(defaultApi, `${path}.default_api`);
    return [
      {
        path,
        clientId: entry.client_id === undefined ? undefined : check(`${path}.client_id`, () => validateClientId(entry.client_id)),
        name: check(`${path}.name`, () => validateName(entry.name)),
        description: check(`${path}.description`, () => validateDescription(entry.description ?? '')),
        defaultApi,
        isEnabled: check(`${path}.enabled`, () => validateBoolean(entry.enabled ?? true, 'enabled')),
        tokenEndpointAuthMethods: methods,
        jwks,
      },
    ];
  });
  uniqueBy(
    clients.filter((client) => client.clientId !== undefined),
    (client) => client.clientId,
    'client_id',
    'client',
    errors,
  );
  // Matched by name: two such entries with one name would claim the same server client.
  uniqueBy(
    clients.filter((client) => client.clientId === undefined),
    (client) => client.name,
    'name',
    'client without client_id',
    errors,
  );

  const referencesBuiltIn: DesiredConfig['referencesBuiltIn'] = [];
  const grants = listAt(value, 'grants', errors).flatMap((entry, index) => {
    const path = `grants[${index}]`;
    if (!isObject(entry)) return (errors.push({ path, message: 'must be a mapping' }), []);
    unknownKeys(entry, path, ['client', 'api', 'scopes', 'token_ttl_seconds'], errors);
    const reference = resolveClient(entry.client, `${path}.client`);
    const apiIdentifier = typeof entry.api === 'string' ? entry.api : undefined;
    if (apiIdentifier === undefined) errors.push({ path: `${path}.api`, message: 'api must be the identifier of an API of the document' });
    const api = apiIdentifier === undefined ? undefined : knownApi(apiIdentifier, `${path}.api`);
    const scopes = check(`${path}.scopes`, () => (api ? validateGrantScopes(api, entry.scopes ?? []) : asStringList(entry.scopes ?? [])));
    if (apiIdentifier === ADMIN_API_IDENTIFIER && scopes) referencesBuiltIn.push({ path: `${path}.scopes`, scopes });
    const tokenTtlSeconds = entry.token_ttl_seconds == null ? null : check(`${path}.token_ttl_seconds`, () => validateTokenTtl(entry.token_ttl_seconds, 'token_ttl_seconds'));
    return reference && apiIdentifier ? [{ path, client: reference.client, byName: reference.byName, api: apiIdentifier, scopes, tokenTtlSeconds }] : [];
  });
  uniqueBy(grants, (grant) => `${grant.client.path} ${grant.api}`, 'api', 'grant for this client on', errors, (grant) => `${grant.client.name} → ${grant.api}`);

  if (errors.length > 0) throw invalidDocument(errors);
  const builtInApis = apis.filter((api) => api.identifier === ADMIN_API_IDENTIFIER).map((api) => api.identifier!);
  return {
    apis: (apis as DesiredApi[]).filter((api) => api.identifier !== ADMIN_API_IDENTIFIER),
    builtInApis,
    clients: clients as DesiredClient[],
    grants: grants as DesiredGrant[],
    referencesBuiltIn,
  };

  /** Default APIs and grants name an API of the document, or the built-in admin API. */
  function knownApi(identifier: string, path: string) {
    const api = apisById.get(identifier);
    if (!api && identifier !== ADMIN_API_IDENTIFIER) errors.push({ path, message: `${identifier} is not an API of this document (list it under apis)` });
    return api?.scopes ? { identifier, scopes: api.scopes } : undefined;
  }

  function resolveClient(reference: unknown, path: string): { client: (typeof clients)[number]; byName: boolean } | undefined {
    if (typeof reference !== 'string' || reference.length === 0) {
      errors.push({ path, message: 'client must be the client_id or the name of a client of the document' });
      return undefined;
    }
    const byId = clients.filter((client) => client.clientId === reference);
    const byName = clients.filter((client) => client.name === reference);
    if (byId.length === 1 && byName.every((client) => client === byId[0])) return { client: byId[0]!, byName: false };
    if (byId.length === 0 && byName.length === 1) return { client: byName[0]!, byName: true };
    if (byId.length + byName.length === 0) errors.push({ path, message: `no client of the document has the client_id or name ${JSON.stringify(reference)}` });
    else errors.push({ path, message: `${JSON.stringify(reference)} names ${byId.length + byName.length} clients of the document; refer to the client by its client_id` });
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listAt(document: Record<string, unknown>, key: string, errors: FieldError[]): unknown[] {
  const list = document[key];
  if (list === undefined || list === null) return [];
  if (Array.isArray(list)) return list;
  errors.push({ path: key, message: 'must be a list' });
  return [];
}

function unknownKeys(entry: Record<string, unknown>, path: string, known: string[], errors: FieldError[]) {
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) errors.push({ path: path ? `${path}.${key}` : key, message: `unknown field (expected one of ${known.join(', ')})` });
  }
}

function asStringList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new AdminError('validation_failed', 'scopes must be a list of scope names');
  return [...new Set(value as string[])];
}

/** Reports every entry after the first that repeats a key, and indexes the entries by key. */
function uniqueBy<T extends { path: string }>(
  entries: T[],
  keyOf: (entry: T) => string | undefined,
  field: string,
  what: string,
  errors: FieldError[],
  label: (entry: T) => string | undefined = keyOf,
): Map<string, T> {
  const seen = new Map<string, T>();
  for (const entry of entries) {
    const key = keyOf(entry);
    if (key === undefined) continue;
    const first = seen.get(key);
    if (first) errors.push({ path: `${entry.path}.${field}`, message: `a second ${what} ${label(entry)} (the first is ${first.path})` });
    else seen.set(key, entry);
  }
  return seen;
}
