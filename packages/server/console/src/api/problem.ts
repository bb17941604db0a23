/**
 * What the console shows when the server says no: the admin API's RFC 9457 problem details, or
 * the token endpoint's RFC 6749 error, kept as the server worded them.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: readonly FieldError[] = [],
    readonly type = 'about:blank',
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** Reads an error answer: problem details, an OAuth error, or just the status line. */
export async function problemFrom(response: Response): Promise<ProblemError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isRecord(body) && text(body.title)) {
    const errors = Array.isArray(body.errors)
      ? body.errors.filter(isRecord).map((entry) => ({ field: String(entry.field ?? ''), message: String(entry.message ?? '') }))
      : [];
    return new ProblemError(response.status, String(body.title), text(body.detail), errors, text(body.type));
  }
  if (isRecord(body) && text(body.error)) return new ProblemError(response.status, String(body.error), text(body.error_description));
  return new ProblemError(response.status, `${response.status} ${response.statusText || 'error'}`.trim(), undefined);
}

/** Anything thrown by a request, as a problem: a network failure has no status. */
export function asProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  return new ProblemError(0, 'The server could not be reached', error instanceof Error ? error.message : undefined);
}
