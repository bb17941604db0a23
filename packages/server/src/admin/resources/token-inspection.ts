import { Type } from '@sinclair/typebox';
import { codec, field, type RecordOf } from './fields.js';
import { nullable, stringEnum } from './common.js';
import type { TokenInspection } from '../../tokens/inspect-token.js';

/** The console's token inspector: `POST /tokens/inspect`. */

/** Longer than any token this server issues (200 scopes of 128 characters, base64url), shorter than a request body worth refusing. */
export const MAX_INSPECTED_TOKEN_CHARS = 64 * 1024;

export const inspectTokenRequest = codec({
  token: field('token', Type.String({ maxLength: MAX_INSPECTED_TOKEN_CHARS, description: 'The access token, as a client holds it' })),
});

const JsonObject = Type.Object({}, { additionalProperties: true });

export const tokenInspectionView = codec({
  format: field(
    'format',
    stringEnum<TokenInspection['format']>(['jwt', 'opaque', 'unknown'], { description: 'unknown: neither a JWT nor an opaque token of this server' }),
  ),
  signature: field(
    'signature',
    stringEnum<TokenInspection['signature']>(['valid', 'invalid', 'unknown_key', 'not_applicable'], {
      description: 'A JWT’s signature against this server’s published keys (unknown_key: no key of its kid); not_applicable for opaque tokens',
    }),
  ),
  issued_here: field('issuedHere', Type.Boolean({ description: 'This server issued it (its key and claims, or its opaque store)' })),
  active: field(
    'active',
    Type.Boolean({
      description: 'As introspection would answer: issued here, unexpired, unrevoked, its client enabled and its grant still covering its scopes',
    }),
  ),
  revoked: field('revoked', Type.Boolean()),
  expired: field('expired', Type.Boolean()),
  reason: field('reason', nullable(Type.String(), { description: 'Why it is not active; null when it is' })),
  header: field('header', nullable(JsonObject, { description: 'A JWT’s protected header, decoded (not verified); null otherwise' })),
  claims: field('claims', nullable(JsonObject, { description: 'A JWT’s claims, decoded; an opaque token’s when it was issued here; null otherwise' })),
});
export type TokenInspectionView = RecordOf<typeof tokenInspectionView.fields>;
