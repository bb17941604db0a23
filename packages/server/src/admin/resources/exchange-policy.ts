import { Type, type Static } from '@sinclair/typebox';
import { codec, field, optional, type RecordOf } from './fields.js';
import { ListQuery, nullable, ScopeList, time, withDescription } from './common.js';

/**
 * A token-exchange policy (RFC 8693): which client may exchange whose tokens — a client's, any
 * client's (`*`), or a trusted issuer's JWTs — for tokens on which API, with at most which scopes.
 * Nothing is exchangeable without one.
 */

const ClientId = Type.String({ minLength: 1, maxLength: 200 });
const SubjectClientId = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'The client whose tokens may be exchanged, or * for any client of this server',
});
const SubjectIssuer = Type.String({ minLength: 1, maxLength: 512, description: 'A trusted issuer whose JWTs may be exchanged (add it first)' });
const ApiIdentifier = Type.String({ minLength: 1, maxLength: 512, description: 'API identifier of the tokens obtained (never urn:m2m-auth:admin)' });
const Scopes = withDescription(
  ScopeList,
  'The most the exchanged token may carry (scopes of the API); left out: no ceiling beyond the subject token and the client’s grant',
);
const Description = Type.String({ maxLength: 1000 });

export const exchangePolicyResource = codec({
  id: field('id', Type.String()),
  client_id: field('clientId', Type.String({ description: 'The exchanging client (the actor)' })),
  subject_client_id: field('subjectClientId', nullable(SubjectClientId)),
  subject_issuer: field('subjectIssuer', nullable(SubjectIssuer)),
  api: field('apiIdentifier', Type.String({ description: 'API identifier' })),
  scopes: field('scopes', nullable(ScopeList, { description: 'Scope ceiling; null: none beyond the subject token and the client’s grant' })),
  description: field('description', Type.String()),
  created_at: time('createdAt'),
});
export type ExchangePolicyWire = Static<typeof exchangePolicyResource.schema>;

export const addExchangePolicy = codec({
  client_id: field('clientId', withDescription(ClientId, 'The exchanging client: it sends the subject token with its own authentication')),
  subject_client_id: optional('subjectClientId', SubjectClientId),
  subject_issuer: optional('subjectIssuer', SubjectIssuer),
  api: field('apiIdentifier', ApiIdentifier),
  scopes: optional('scopes', Scopes),
  description: optional('description', Description),
});
/** Exactly one of `subjectClientId` and `subjectIssuer` (the operation says so when it is not). */
export type AddExchangePolicyInput = RecordOf<typeof addExchangePolicy.fields>;

/** Listing policies, by exchanging client and/or API. */
export const exchangePolicyFilter = codec({
  client_id: optional('clientId', Type.String({ maxLength: 200 })),
  api: optional('apiIdentifier', Type.String({ maxLength: 512 })),
});
export type ExchangePolicyFilter = RecordOf<typeof exchangePolicyFilter.fields>;
export const ExchangePoliciesQuery = Type.Object({ ...ListQuery.properties, ...exchangePolicyFilter.schema.properties }, { additionalProperties: false });

/**
 * The config document's entry: a client of the document (by client_id or name) may exchange the
 * tokens of another (or `*`), or a trusted issuer's JWTs, for an API of the document. Matched by
 * client, subject and API, so applying the same document twice changes nothing.
 */
export const ConfigExchangePolicy = Type.Object(
  {
    client: Type.String({ minLength: 1, description: 'client_id or name of the exchanging client, a client of the document.' }),
    subject_client: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'client_id or name of a client of the document whose tokens may be exchanged, or *. Exclusive with subject_issuer.',
      }),
    ),
    subject_issuer: Type.Optional(
      withDescription(SubjectIssuer, 'A trusted issuer of the document whose JWTs may be exchanged. Exclusive with subject_client.'),
    ),
    api: Type.String({ minLength: 1, description: 'Identifier of an API of the document (never urn:m2m-auth:admin).' }),
    scopes: Type.Optional(nullable(ScopeList, { description: 'Scope ceiling, scopes of that API. Default: none beyond the subject token and the grant.' })),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type ConfigExchangePolicy = Static<typeof ConfigExchangePolicy>;
