/**
 * JSON Schemas of the admin API: they validate every request (Fastify/Ajv) and are the source of
 * the OpenAPI document (@fastify/swagger), so the two cannot drift. Shapes are the admin views'
 * (admin/views.ts): snake_case, ISO-8601 times.
 */
import { JWK_COMMON_MEMBERS, JWK_PUBLIC_MEMBERS, MAX_JWK_MEMBER_CHARS, MAX_JWKS_KEYS } from '../../admin/validation.js';

const string = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra }) as const;
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = nullable(time);
const strictObject = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, properties, required }) as const;

const signingAlg = string({ enum: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'], description: 'JWS algorithm of the API’s tokens' });
const tokenTtl = { type: 'integer', minimum: 30, maximum: 86_400, description: 'Access-token lifetime in seconds' } as const;
const authMethods = {
  type: 'array',
  minItems: 1,
  items: string({ enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] }),
} as const;
/** Flat public JWKs only (admin/validation.ts checks the members each kty has). */
const jwkMember = string({ maxLength: MAX_JWK_MEMBER_CHARS });
const jwk = strictObject(
  {
    ...Object.fromEntries([...JWK_COMMON_MEMBERS, ...new Set(Object.values(JWK_PUBLIC_MEMBERS).flat())].map((member) => [member, jwkMember])),
    kty: string({ enum: Object.keys(JWK_PUBLIC_MEMBERS) }),
    key_ops: { type: 'array', maxItems: 8, items: string({ maxLength: 32 }) },
    ext: { type: 'boolean' },
  },
  ['kty'],
);
const jwks = { ...nullable(strictObject({ keys: { type: 'array', minItems: 1, maxItems: MAX_JWKS_KEYS, items: jwk } }, ['keys'])), description: 'Public JWK Set for private_key_jwt' };
const introspectApis = {
  type: 'array',
  maxItems: 200,
  items: string({ minLength: 1, maxLength: 512 }),
  description: 'API identifiers (or "*") whose tokens this client may introspect (RFC 7662 §4); [] for none. Setting or changing it needs the admin scope introspection:write',
} as const;
const scopeInput = { anyOf: [string({ minLength: 1, maxLength: 128 }), strictObject({ value: string({ minLength: 1, maxLength: 128 }), description: string({ maxLength: 500 }) }, ['value'])] };
const scopeList = { type: 'array', maxItems: 200, items: string({ minLength: 1, maxLength: 128 }) } as const;

// ---- Records as the API returns them ------------------------------------------------------------
export const apiSchema = strictObject(
  {
    identifier: string({ description: 'Absolute URI; the tokens’ aud' }),
    name: string(),
    scopes: { type: 'array', items: strictObject({ value: string(), description: string() }, ['value', 'description']) },
    signing_alg: signingAlg,
    token_ttl_seconds: tokenTtl,
    created_at: time,
    updated_at: time,
  },
  ['identifier', 'name', 'scopes', 'signing_alg', 'token_ttl_seconds', 'created_at', 'updated_at'],
);

export const clientSchema = strictObject(
  {
    client_id: string(),
    name: string(),
    description: string(),
    default_api: nullable(string()),
    enabled: { type: 'boolean' },
    grant_types: { type: 'array', items: string() },
    token_endpoint_auth_methods: authMethods,
    jwks,
    introspect_apis: introspectApis,
    created_at: time,
    updated_at: time,
  },
  ['client_id', 'name', 'description', 'default_api', 'enabled', 'grant_types', 'token_endpoint_auth_methods', 'jwks', 'introspect_apis', 'created_at', 'updated_at'],
);

export const secretSchema = strictObject(
  { id: string(), hint: string({ description: 'The last four characters, to tell secrets apart' }), created_at: time, expires_at: nullableTime },
  ['id', 'hint', 'created_at', 'expires_at'],
);

export const secretDetailSchema = strictObject(
  { ...secretSchema.properties, last_used_at: { ...nullableTime, description: 'Last successful authentication (recorded in batches, up to ~30 s late)' } },
  [...secretSchema.required, 'last_used_at'],
);

export const grantSchema = strictObject(
  {
    id: string(),
    client_id: string(),
    api: string({ description: 'API identifier' }),
    scopes: { type: 'array', items: string() },
    token_ttl_seconds: nullable(tokenTtl),
    created_at: time,
    updated_at: time,
  },
  ['id', 'client_id', 'api', 'scopes', 'token_ttl_seconds', 'created_at', 'updated_at'],
);

export const keySchema = strictObject(
  {
    kid: string(),
    alg: signingAlg,
    status: string({ enum: ['pending', 'active', 'published', 'retired'], description: 'pending: published ahead of signing (scheduled rotation)' }),
    api: nullable(string({ description: 'The API an HS256 key belongs to' })),
    created_at: time,
    rotated_at: nullableTime,
  },
  ['kid', 'alg', 'status', 'api', 'created_at', 'rotated_at'],
);

export const auditEventSchema = strictObject(
  { id: string(), at: time, type: string(), actor: string({ description: 'The admin client id, or cli' }), data: { type: 'object', additionalProperties: true } },
  ['id', 'at', 'type', 'actor', 'data'],
);

export const pageOf = (item: Record<string, unknown>) =>
  strictObject({ items: { type: 'array', items: item }, next_cursor: nullable(string({ description: 'Pass as cursor for the next page' })) }, ['items', 'next_cursor']);

// ---- Inputs ---------------------------------------------------------------------------------------
export const createApiBody = strictObject(
  { identifier: string({ minLength: 1, maxLength: 512 }), name: string({ minLength: 1, maxLength: 200 }), scopes: { type: 'array', maxItems: 200, items: scopeInput }, signing_alg: signingAlg, token_ttl_seconds: tokenTtl },
  ['identifier'],
);
export const updateApiBody = strictObject({ name: string({ minLength: 1, maxLength: 200 }), scopes: { type: 'array', maxItems: 200, items: scopeInput }, signing_alg: signingAlg, token_ttl_seconds: tokenTtl });

export const createClientBody = strictObject(
  { name: string({ minLength: 1, maxLength: 200 }), description: string({ maxLength: 1000 }), default_api: nullable(string({ maxLength: 512 })), token_endpoint_auth_methods: authMethods, jwks, introspect_apis: introspectApis },
  ['name'],
);
export const updateClientBody = strictObject({
  name: string({ minLength: 1, maxLength: 200 }),
  description: string({ maxLength: 1000 }),
  default_api: nullable(string({ maxLength: 512 })),
  enabled: { type: 'boolean' },
  token_endpoint_auth_methods: authMethods,
  jwks,
  introspect_apis: introspectApis,
});
export const rotateSecretBody = strictObject({ grace_seconds: { type: 'integer', minimum: 0, maximum: 2_592_000, description: 'How long the current secrets keep working (default 3600)' } });

export const addSecretBody = strictObject({ expires_in_seconds: { type: 'integer', minimum: 60, maximum: 157_680_000, description: 'The secret stops working after this many seconds (default: never)' } });

export const createGrantBody = strictObject(
  { client_id: string({ minLength: 1, maxLength: 200 }), api: string({ minLength: 1, maxLength: 512 }), scopes: scopeList, token_ttl_seconds: nullable(tokenTtl) },
  ['client_id', 'api', 'scopes'],
);
export const updateGrantBody = strictObject({ scopes: scopeList, token_ttl_seconds: nullable(tokenTtl) });

export const rotateKeyBody = strictObject({ alg: signingAlg, api: string({ description: 'For HS256: the API whose key to rotate' }) });

export const retireKeyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { type: 'boolean', description: 'Retire even though tokens the key signed may still be alive (they stop verifying)' } },
} as const;

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Page size (default 100)' },
  cursor: string({ maxLength: 512, description: 'next_cursor of the previous page' }),
} as const;

export const listQuery = strictObject(pageQuery);
export const grantsQuery = strictObject({ ...pageQuery, client_id: string({ maxLength: 200 }), api: string({ maxLength: 512 }) });
export const auditQuery = strictObject({
  ...pageQuery,
  type: string({ maxLength: 100, description: 'e.g. client.created' }),
  actor: string({ maxLength: 200 }),
  since: string({ maxLength: 40, description: 'ISO 8601 time or epoch milliseconds (inclusive)' }),
  until: string({ maxLength: 40, description: 'ISO 8601 time or epoch milliseconds (exclusive)' }),
});

export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: string({ description: 'Stable URN per error, e.g. urn:m2m-auth:problem:validation-failed' }),
    title: string(),
    status: { type: 'integer' },
    detail: string(),
    errors: { type: 'array', items: strictObject({ field: string(), message: string() }, ['field', 'message']) },
  },
  required: ['type', 'title', 'status'],
} as const;

// ---- Configuration as code ----------------------------------------------------------------------
/**
 * The document is checked by the apply operation itself (every problem with its path, e.g.
 * `clients[3].name`), against the JSON Schema shipped as @m2m-auth/server/schema/m2m-auth-config.schema.json;
 * here it only has to be an object.
 */
export const configDocument = {
  type: 'object',
  additionalProperties: true,
  description: 'A configuration document (version 1): apis, clients, grants. JSON Schema: urn:m2m-auth:schema:config-document:1',
  properties: { version: { type: 'integer' } },
} as const;
export const exportQuery = strictObject({ include_admin: { type: 'boolean', description: 'Also export the built-in admin API' } });
export const applyQuery = strictObject({
  dry_run: { type: 'boolean', description: 'Only compute the plan' },
  prune: { type: 'boolean', description: 'Delete what the document does not list' },
  allow_admin_deletion: { type: 'boolean', description: 'Let prune delete the calling admin client or the last client holding admin scopes (refused otherwise)' },
});
export const applyResult = strictObject(
  {
    plan: { type: 'object', additionalProperties: true, description: '{changes: [{action, resource, key, after?, changes?}], kept: [{resource, key}]}' },
    applied: { type: 'boolean' },
    created_secrets: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Secrets of the clients (and HS256 APIs) this apply created: in this one answer only' },
  },
  ['plan', 'applied', 'created_secrets'],
);
