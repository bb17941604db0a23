/**
 * Something the server depends on (its database, its shared state) cannot answer right now:
 * nothing the caller sent was wrong, and the same request may succeed shortly. Adapters throw a
 * subclass; the wire formats answer 503 with Retry-After from this base class alone, so errors/
 * needs to know no adapter. `description` is safe to send; `message` and `cause` are for the log.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    message: string,
    /** What the caller is told: what could not be done, never which system or why. */
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Seconds a caller is asked to wait (pool connections and Redis are retried per request). */
  readonly retryAfterSeconds: number = 1;
}

export function isDependencyUnavailable(error: unknown): error is DependencyUnavailableError {
  return error instanceof DependencyUnavailableError;
}
