/**
 * Errors of admin operations (CLI, and later the admin HTTP API, which renders them as
 * RFC 9457 problem details). `code` is stable; `message` is safe to show to an operator.
 */
export type AdminErrorCode = 'validation_failed' | 'not_found' | 'conflict';

const STATUS: Record<AdminErrorCode, number> = { validation_failed: 400, not_found: 404, conflict: 409 };

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: number;
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const validationFailed = (field: string, message: string) => new AdminError('validation_failed', message, field);
export const notFound = (message: string) => new AdminError('not_found', message);
