import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../../errors/admin-error.js';
import { echo } from '../../errors/echo.js';
import { isStorableText, UNSTORABLE_TEXT } from '../../storage/storable-text.js';

/**
 * Every admin input (path parameters, query string, JSON body, keys included) is refused with a
 * 400 validation-failed when it holds text no store can hold, before validation, before any query,
 * so every adapter answers alike (PostgreSQL would otherwise fail the statement: a 500).
 * Runs after authentication (onRequest), so an unauthenticated caller still learns nothing.
 */
export function useStorableInput(admin: FastifyInstance): void {
  admin.addHook('preValidation', async (request) => {
    for (const [part, value] of [['params', request.params], ['query', request.query], ['body', request.body]] as const) {
      const field = findUnstorable(value);
      if (field !== undefined) throw validationFailed(field || part, `${field || part} ${UNSTORABLE_TEXT}`);
    }
  });
}

/**
 * The path (`jwks.keys.0.kid`) of the first string or key that no store can hold, or undefined.
 * Iterative, not recursive: a body nested thousands deep must not overflow the stack here.
 */
export function findUnstorable(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return path;
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        // A key that cannot be stored is reported at its parent: echoing it would say nothing useful.
        if (!isStorableText(key)) return path || '(a field name)';
        pending.push([child, path ? `${path}.${echo(key)}` : echo(key)]);
      }
    }
  }
  return undefined;
}
