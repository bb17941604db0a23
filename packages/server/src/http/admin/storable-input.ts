import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../../errors/admin-error.js';
import { echo } from '../../errors/echo.js';
import { findUnstorable, UNSTORABLE_TEXT } from '../../protocol/storable-text.js';

/**
 * Every admin input (path parameters, query string, JSON body, keys included) is refused with a
 * 400 validation-failed when it holds text no store can hold, before validation, before any query,
 * so every adapter answers alike (PostgreSQL would otherwise fail the statement: a 500).
 * Runs after authentication (onRequest), so an unauthenticated caller still learns nothing.
 */
export function useStorableInput(admin: FastifyInstance): void {
  admin.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['params', request.params],
      ['query', request.query],
      ['body', request.body],
    ] as const) {
      const found = findUnstorable(value);
      if (found === undefined) continue;
      // The names on the way are the caller's: bounded; a key that cannot be stored is not shown.
      const path = found.path.map((segment) => echo(String(segment))).join('.');
      const field = found.isKey ? (path ? `${path} (a field name)` : '(a field name)') : path || part;
      throw validationFailed(field, `${field} ${UNSTORABLE_TEXT}`);
    }
  });
}
