import type { ApiStore } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { ANY_API } from '../protocol/limits.js';
import { echo } from '../errors/echo.js';

/**
 * A client's introspection permission: the APIs whose tokens it may introspect (RFC 7662 §4), or
 * `*` for all. Every named API must exist, so a typo cannot silently grant nothing. An empty list
 * removes the permission.
 */
export async function validateIntrospectApis(apis: Pick<ApiStore, 'getApi'>, value: unknown): Promise<string[]> {
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw validationFailed('introspectApis', 'introspection permission must be a list of API identifiers, or *');
  }
  const entries = [...new Set(value as string[])];
  if (entries.includes(ANY_API)) {
    if (entries.length > 1) throw validationFailed('introspectApis', '* already covers every API; give it alone');
    return entries;
  }
  for (const identifier of entries) {
    if (!(await apis.getApi(identifier))) throw notFound(`No API with identifier ${echo(identifier)}`);
  }
  return entries;
}
