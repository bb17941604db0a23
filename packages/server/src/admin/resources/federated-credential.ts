import { Type, type Static } from '@sinclair/typebox';
import type { SubjectMatch } from '../../storage/types.js';
import { SUBJECT_MATCHES } from '../../federation/federation-rules.js';
import {
  MAX_AUDIENCE_CHARS,
  MAX_AUDIENCES,
  MAX_CLAIM_CONDITIONS,
  MAX_CLAIM_NAME_CHARS,
  MAX_CLAIM_VALUE_CHARS,
  MAX_ISSUER_CHARS,
  MAX_SUBJECT_CHARS,
  RESERVED_CLAIM_NAMES,
} from '../federation-validation.js';
import { codec, field, listOf, optional, type RecordOf } from './fields.js';
import { stringEnum, time, withDescription } from './common.js';

/**
 * A federated credential (Entra's federated identity credential): tokens of a trusted issuer whose
 * subject matches authenticate as the client. It holds no secret; it is a rule.
 */

const Issuer = Type.String({ minLength: 1, maxLength: MAX_ISSUER_CHARS, description: 'A trusted issuer (add it first)' });
const Subject = Type.String({
  minLength: 1,
  maxLength: MAX_SUBJECT_CHARS,
  description: 'The sub the token must carry, matched literally (e.g. repo:my-org/app:ref:refs/heads/main, system:serviceaccount:payments:api)',
});
const Match = stringEnum<SubjectMatch>(SUBJECT_MATCHES, {
  description: 'exact (default), or prefix: sub must start with subject, which must end at ":" or "/" and name at least 3 parts',
});
const Audiences = Type.Array(Type.String({ minLength: 1, maxLength: MAX_AUDIENCE_CHARS }), {
  maxItems: MAX_AUDIENCES,
  description: 'Accepted aud values of the platform token; empty: this server’s issuer identifier',
});
const Claims = Type.Record(Type.String({ minLength: 1, maxLength: MAX_CLAIM_NAME_CHARS }), Type.String({ minLength: 1, maxLength: MAX_CLAIM_VALUE_CHARS }), {
  maxProperties: MAX_CLAIM_CONDITIONS,
  description: `Claims the token must carry with exactly these string values (e.g. repository_owner_id); not ${RESERVED_CLAIM_NAMES.join(', ')}`,
});
const Description = Type.String({ maxLength: 1000 });

export const federatedCredentialResource = codec({
  id: field('id', Type.String()),
  client_id: field('clientId', Type.String()),
  issuer: field('issuer', Issuer),
  subject: field('subject', Subject),
  subject_match: field('subjectMatch', Match),
  audiences: field('audiences', Audiences),
  claims: field('claims', Claims),
  description: field('description', Description),
  created_at: time('createdAt'),
});
export type FederatedCredentialWire = Static<typeof federatedCredentialResource.schema>;

export const federatedCredentialList = codec({ items: listOf('items', federatedCredentialResource) });

const requestFields = {
  issuer: field('issuer', Issuer),
  subject: field('subject', Subject),
  subject_match: optional('subjectMatch', Match),
  audiences: optional('audiences', Audiences),
  claims: optional('claims', Claims),
  description: optional('description', Description),
};
export const addFederatedCredential = codec(requestFields);
export type AddFederatedCredentialInput = RecordOf<typeof addFederatedCredential.fields>;

/** The config document's entry, under its client: matched by issuer, subject and subject_match. */
export const ConfigFederatedCredential = Type.Object(
  {
    issuer: withDescription(Issuer, 'The issuer of a trusted issuer of the document.'),
    subject: Subject,
    subject_match: Type.Optional(withDescription(Match, 'Default exact.')),
    audiences: Type.Optional(withDescription(Audiences, 'Default []: the server’s issuer identifier.')),
    claims: Type.Optional(withDescription(Claims, 'Default {}.')),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type ConfigFederatedCredential = Static<typeof ConfigFederatedCredential>;
