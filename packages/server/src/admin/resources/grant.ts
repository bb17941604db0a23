import { Type, type Static } from '@sinclair/typebox';
import { codec, field, optional, type RecordOf } from './fields.js';
import { ListQuery, nullable, ScopeList, time, TokenTtl } from './common.js';

/** A client grant (which scopes of which API a client may request): wire, requests, config document entry. */

export const grantResource = codec({
  id: field('id', Type.String()),
  client_id: field('clientId', Type.String()),
  api: field('apiIdentifier', Type.String({ description: 'API identifier' })),
  scopes: field('scopes', Type.Array(Type.String())),
  token_ttl_seconds: field('tokenTtlSeconds', nullable(TokenTtl)),
  created_at: time('createdAt'),
  updated_at: time('updatedAt'),
});
export type GrantWire = Static<typeof grantResource.schema>;

const changeable = {
  scopes: optional('scopes', ScopeList),
  token_ttl_seconds: optional('tokenTtlSeconds', nullable(TokenTtl)),
};
export const createGrant = codec({
  client_id: field('clientId', Type.String({ minLength: 1, maxLength: 200 })),
  api: field('apiIdentifier', Type.String({ minLength: 1, maxLength: 512 })),
  scopes: field('scopes', ScopeList),
  token_ttl_seconds: changeable.token_ttl_seconds,
});
export const updateGrant = codec(changeable);
export type CreateGrantInput = RecordOf<typeof createGrant.fields>;
export type UpdateGrantInput = RecordOf<typeof updateGrant.fields>;

/** Listing grants, by client and/or API. */
export const grantFilter = codec({
  client_id: optional('clientId', Type.String({ maxLength: 200 })),
  api: optional('apiIdentifier', Type.String({ maxLength: 512 })),
});
export type GrantFilter = RecordOf<typeof grantFilter.fields>;
export const GrantsQuery = Type.Object({ ...ListQuery.properties, ...grantFilter.schema.properties }, { additionalProperties: false });

/** The config document's entry: a client of the document (by client_id or name) allowed scopes of an API of the document. */
export const ConfigGrant = Type.Object(
  {
    client: Type.String({ minLength: 1, description: 'client_id or name of a client of the document.' }),
    api: Type.String({ minLength: 1, description: 'Identifier of an API of the document, or urn:m2m-auth:admin.' }),
    scopes: Type.Optional(Type.Array(Type.String(), { description: 'Scopes of that API the client may request. Default: none.' })),
    token_ttl_seconds: Type.Optional(nullable(TokenTtl, { description: "Overrides the API's token lifetime; null: the API's." })),
  },
  { additionalProperties: false },
);
export type ConfigGrant = Static<typeof ConfigGrant>;
