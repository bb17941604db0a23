import type { Logger } from 'pino';
import type { EndpointEventBus } from '../protocol/endpoint-events.js';
import { OAuthError } from '../errors/oauth-error.js';
import { throttleLimitOf } from '../errors/too-many-requests.js';
import { SharedStateUnavailableError, type SharedStateHealth } from '../state/resilient-state.js';
import { isStorageUnavailable } from '../storage/types.js';

/**
 * The server's log lines about its endpoints, as a subscriber to what they emit: one `token.issued`
 * line per token (the audit trail of issuance), one per revocation, and errors by kind.
 */
export function logEndpointEvents(events: EndpointEventBus, logger: Logger): void {
  // The constant field of the per-token lines is serialised once, not per token.
  const issuedLog = logger.child({ event: 'token.issued' });
  const revokedLog = logger.child({ event: 'token.revoked' });
  events.on('token.issued', ({ requestId, clientId, grantType, audience, scope, jti, expiresIn, credential }) =>
    issuedLog.info({ reqId: requestId, clientId, grantType, audience, scope, jti, expiresIn, credential }, 'token issued'),
  );
  events.on('token.revoked', ({ requestId, clientId, jti }) => revokedLog.info({ reqId: requestId, clientId, jti }, 'token revoked'));
  events.on('token.failed', ({ error, clientId, requestId }) => logEndpointError(logger, 'token', error, { clientId, requestId }));
  events.on('introspection.failed', ({ error, requestId }) => logEndpointError(logger, 'introspection', error, { requestId }));
  events.on('revocation.failed', ({ error, requestId }) => logEndpointError(logger, 'revocation', error, { requestId }));
}

/** One log line per transition of the shared state (never per request). */
export function logSharedStateTransitions(health: SharedStateHealth, logger: Logger): void {
  health.onChange(({ isAvailable, cause }) => {
    if (isAvailable) logger.info({ event: 'shared_state.available' }, 'shared state (Redis) answers: limits are shared, replay and revocation checks resume');
    else {
      logger.warn(
        { event: 'shared_state.unavailable', reason: cause instanceof Error ? cause.message : String(cause) },
        'shared state (Redis) unavailable: rate limits and failure throttling are per instance; replay and revocation checks answer 503',
      );
    }
  });
}

const THROTTLED_LOG_INTERVAL_MS = 10_000;
const throttledLogs = new Map<string, { loggedAt: number; suppressed: number }>();

/**
 * Client mistakes are logged at info with their log-only detail; server faults at error. Requests
 * refused by a limit are logged at most once per limit and endpoint every 10 s, with the count of
 * the lines left out: a flood must not become a flood of log lines.
 */
/** The number of lines suppressed since the last one when a line under `key` is due, else undefined. */
function logDue(key: string): number | undefined {
  const entry = throttledLogs.get(key);
  const at = Date.now();
  if (entry && at - entry.loggedAt < THROTTLED_LOG_INTERVAL_MS) {
    entry.suppressed += 1;
    return undefined;
  }
  throttledLogs.set(key, { loggedAt: at, suppressed: 0 });
  return entry?.suppressed ?? 0;
}

function logEndpointError(logger: Logger, endpoint: string, error: unknown, context: { clientId?: string | undefined; requestId?: string | undefined }) {
  const { clientId, requestId: reqId } = context;
  // Logged once when the shared state goes away, counted per request in the metrics.
  if (error instanceof SharedStateUnavailableError) return;
  const limit = throttleLimitOf(error);
  if (limit) {
    const suppressedSinceLast = logDue(`${endpoint} ${limit}`);
    if (suppressedSinceLast !== undefined)
      logger.warn({ event: `${endpoint}.throttled`, reqId, limit, clientId, suppressedSinceLast }, 'request refused by a limit');
    return;
  }
  // The database away answers 503 to every request: a warning now and then, not a stack each time.
  if (isStorageUnavailable(error)) {
    const suppressedSinceLast = logDue(`${endpoint} storage`);
    if (suppressedSinceLast !== undefined)
      logger.warn({ event: `${endpoint}.storage_unavailable`, reqId, err: error.cause, suppressedSinceLast }, 'database unreachable; answered 503');
    return;
  }
  if (error instanceof OAuthError && error.status < 500) {
    logger.info(
      { event: `${endpoint}.rejected`, reqId, error: error.error, description: error.description, detail: error.detail, clientId },
      'request rejected',
    );
  } else {
    logger.error({ event: `${endpoint}.failed`, reqId, err: error, clientId }, 'request failed');
  }
}
