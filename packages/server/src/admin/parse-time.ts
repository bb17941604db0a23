import { validationFailed } from '../errors/admin-error.js';

/** `since`/`until` accept ISO 8601 or epoch milliseconds, in the admin API and the CLI alike. */
export function parseTime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms)) throw validationFailed(field, `${field} must be an ISO 8601 time or epoch milliseconds`);
  return ms;
}
