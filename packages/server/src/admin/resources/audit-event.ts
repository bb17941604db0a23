import { Type, type Static } from '@sinclair/typebox';
import { codec, field, optional, type RecordOf } from './fields.js';
import { pageQuery, time } from './common.js';

/** An audit log entry: plain data that never holds a secret or a token. */

export const auditEventResource = codec({
  id: field('id', Type.String()),
  at: time('at'),
  type: field('type', Type.String()),
  actor: field('actor', Type.String({ description: 'The admin client id, or cli' })),
  data: field('data', Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
});
export type AuditEventWire = Static<typeof auditEventResource.schema>;

/** The filter of a query of the log; times as ISO 8601 or epoch milliseconds (admin/parse-time.ts reads them). */
export const auditFilter = codec({
  type: optional('type', Type.String({ maxLength: 100, description: 'e.g. client.created' })),
  actor: optional('actor', Type.String({ maxLength: 200 })),
  since: optional('since', Type.String({ maxLength: 40, description: 'ISO 8601 time or epoch milliseconds (inclusive)' })),
  until: optional('until', Type.String({ maxLength: 40, description: 'ISO 8601 time or epoch milliseconds (exclusive)' })),
});
export type AuditFilterWire = RecordOf<typeof auditFilter.fields>;
export const AuditQuery = Type.Object({ ...pageQuery, ...auditFilter.schema.properties }, { additionalProperties: false });
