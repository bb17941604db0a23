/**
 * Errors of admin operations (CLI, programmatic API and the admin HTTP API, which renders them as
 * RFC 9457 problem details). `code` is stable and becomes the problem `type`; `message` is safe to
 * show to an operator and never holds a secret.
 */
export type AdminErrorCode = 'validation_failed' | 'not_found' | 'conflict' | 'forbidden' | 'unauthorized' | 'insufficient_scope';

const STATUS: Record<AdminErrorCode, number> = {
  validation_failed: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  insufficient_scope: 403,
};

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: number;
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly field?: string,
    /** Extra problem members (RFC 9457 §3.2), e.g. the scopes an operation needs; never a secret. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const validationFailed = (field: string, message: string) => new AdminError('validation_failed', message, field);
export const notFound = (message: string) => new AdminError('not_found', message);
export const conflict = (message: string) => new AdminError('conflict', message);

/** Matches by shape, not `instanceof`, so an AdminError from another copy of the package still counts. */
export function isAdminError(error: unknown): error is AdminError {
  return (error as { name?: unknown } | null)?.name === 'AdminError' && typeof (error as { code?: unknown }).code === 'string';
}
