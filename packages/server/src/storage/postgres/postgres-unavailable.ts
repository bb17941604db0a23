import type pg from 'pg';
import { StorageUnavailableError } from '../types.js';

/** Network errors of the socket under a connection: the server is away, not the statement wrong. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * SQLSTATEs that say the same from the server's side: class 08 (connection exception), the
 * server shutting down or starting (57P01–57P03), out of connections (53300), and a statement cut
 * by statement_timeout (57014: a database too slow to answer is, to a caller, away).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** node-postgres reports a dropped or timed-out connection without a code, by message only. */
const DRIVER_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

export function isConnectionFailure(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && DRIVER_MESSAGES.test(message);
}

/** A connection-level failure as the contract's typed error; anything else (a constraint, a bad value) as it was. */
export function asStorageError(error: unknown): unknown {
  return isConnectionFailure(error) ? new StorageUnavailableError({ cause: error }) : error;
}

type Queryable = Pick<pg.Pool, 'query'>;

/** The same queries, their connection-level failures raised as StorageUnavailableError. */
export function reportingUnavailable(db: Queryable): Queryable {
  const query = (...args: unknown[]) =>
    (db.query as (...a: unknown[]) => Promise<unknown>)(...args).catch((error: unknown) => {
      throw asStorageError(error);
    });
  return { query: query as Queryable['query'] };
}
