import { Type, type Static } from '@sinclair/typebox';
import { ConfigApi } from './api.js';
import { ConfigClient } from './client.js';
import { ConfigGrant } from './grant.js';
import { ConfigTrustedIssuer } from './trusted-issuer.js';
import { ConfigFederatedCredential } from './federated-credential.js';
import { ConfigExchangePolicy } from './exchange-policy.js';
import { codec, field } from './fields.js';

/**
 * The configuration document of `m2m-auth export` / `apply` (format version 1), in the wire shape
 * of the admin API: each resource's entry is defined with the resource. This schema is shipped for
 * editors as schema/m2m-auth-config.schema.json (`npm run schema:config` writes it; a test keeps it
 * current); apply checks the document itself, path by path (admin/config-document.ts).
 */
export const CONFIG_DOCUMENT_SCHEMA_ID = 'urn:m2m-auth:schema:config-document:1';

const listOf = <S extends Parameters<typeof Type.Array>[0]>(entry: S) => Type.Optional(Type.Union([Type.Array(entry), Type.Null()]));

export const ConfigDocument = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.Literal(1, { description: 'Document format version.' }),
    apis: listOf(ConfigApi),
    trusted_issuers: listOf(ConfigTrustedIssuer),
    clients: listOf(ConfigClient),
    grants: listOf(ConfigGrant),
    exchange_policies: listOf(ConfigExchangePolicy),
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: CONFIG_DOCUMENT_SCHEMA_ID,
    title: 'm2m-auth configuration document',
    description:
      'APIs, trusted issuers, clients (with their federated credentials), grants and token-exchange policies for `m2m-auth apply -f` (written by `m2m-auth export`). A field left out takes the value `create` would give it. Never holds a secret.',
    additionalProperties: false,
  },
);
export type ConfigDocument = Static<typeof ConfigDocument>;
export type { ConfigApi } from './api.js';
export type { ConfigClient } from './client.js';
export type { ConfigGrant } from './grant.js';
export type { ConfigTrustedIssuer } from './trusted-issuer.js';
export type { ConfigFederatedCredential } from './federated-credential.js';
export type { ConfigExchangePolicy } from './exchange-policy.js';

/** The names each entry may hold: apply refuses any other (a misspelt field would otherwise be dropped). */
export const CONFIG_ENTRY_FIELDS = {
  apis: Object.keys(ConfigApi.properties),
  trusted_issuers: Object.keys(ConfigTrustedIssuer.properties),
  clients: Object.keys(ConfigClient.properties),
  federated_credentials: Object.keys(ConfigFederatedCredential.properties),
  grants: Object.keys(ConfigGrant.properties),
  exchange_policies: Object.keys(ConfigExchangePolicy.properties),
};

/** The JSON Schema file as committed: plain JSON, stable formatting. */
export function renderConfigDocumentSchema(): string {
  return `${JSON.stringify(ConfigDocument, null, 2)}\n`;
}

/**
 * The admin API takes the document as it is and leaves the checks to apply, which names every
 * problem with its path (`clients[3].name`); here it only has to be an object.
 */
const looseDocument = {
  type: 'object',
  additionalProperties: true,
  description: `A configuration document (version 1): apis, trusted_issuers, clients, grants, exchange_policies. JSON Schema: ${CONFIG_DOCUMENT_SCHEMA_ID}`,
  properties: { version: { type: 'integer' } },
};
export const ConfigDocumentBody = Type.Unsafe<Record<string, unknown>>(looseDocument);
/** What export answers: the same schema, and a document it wrote. */
export const ConfigDocumentAnswer = Type.Unsafe<ConfigDocument>(looseDocument);

export const ExportQuery = Type.Object(
  { include_admin: Type.Optional(Type.Boolean({ description: 'Also export the built-in admin API' })) },
  { additionalProperties: false },
);

export const ApplyQuery = Type.Object(
  {
    dry_run: Type.Optional(Type.Boolean({ description: 'Only compute the plan' })),
    prune: Type.Optional(Type.Boolean({ description: 'Delete what the document does not list' })),
    allow_admin_deletion: Type.Optional(
      Type.Boolean({ description: 'Let prune delete the calling admin client or the last client holding admin scopes (refused otherwise)' }),
    ),
  },
  { additionalProperties: false },
);

export type Resource = 'api' | 'trusted_issuer' | 'client' | 'federated_credential' | 'grant' | 'exchange_policy';

/** One line of the plan, in the document's snake_case terms; never a secret. */
export interface PlanChange {
  action: 'create' | 'update' | 'delete';
  resource: Resource;
  /** How the plan names the resource: the API identifier, the issuer, `name (client_id)`, `client ← issuer subject`, `client → api`, `client ← subject → api`. */
  key: string;
  /** create: every field of the new resource. */
  after?: Record<string, unknown>;
  /** update: each changed field with its value before and after. */
  changes?: Record<string, { before: unknown; after: unknown }>;
}

export interface ConfigPlan {
  /** In the order of the document's sections: APIs, trusted issuers, clients with their federated credentials, grants, exchange policies. */
  changes: PlanChange[];
  /** Resources on the server that the document does not list, kept because prune was not asked for. */
  kept: { resource: Resource; key: string }[];
}

/** Shown once, in the result of the apply that created them. */
export type CreatedSecret =
  { resource: 'client'; client_id: string; name: string; client_secret: string } | { resource: 'api'; identifier: string; shared_secret: string };

/** The answer to an apply: the plan, whether it was carried out, and the secrets it created (in this one answer). */
export const applyResult = codec({
  plan: field(
    'plan',
    Type.Unsafe<ConfigPlan>({
      type: 'object',
      additionalProperties: true,
      description: '{changes: [{action, resource, key, after?, changes?}], kept: [{resource, key}]}',
    }),
  ),
  applied: field('applied', Type.Boolean()),
  created_secrets: field(
    'createdSecrets',
    Type.Unsafe<CreatedSecret[]>({
      type: 'array',
      items: { type: 'object', additionalProperties: true },
      description: 'Secrets of the clients (and HS256 APIs) this apply created: in this one answer only',
    }),
  ),
});
