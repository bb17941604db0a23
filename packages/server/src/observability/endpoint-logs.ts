import type { Logger } from 'pino';
import type { EndpointEventBus, EndpointEventMap } from '../protocol/endpoint-events.js';
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
  events.on('quota.counted', (event) => {
    if (event.tokensOver > 0) logQuotaExceeded(logger, event);
  });
  events.on('usage.refetching', ({ clientId, audience, scope, refetches }) =>
    logger.warn(
      { event: 'usage.refetching', clientId, audience, scope, refetches },
      'client fetches new tokens while its earlier ones are far from expiry; it should reuse a token until it nears expiry (the m2m-auth SDKs do)',
    ),
  );
}

const REFETCH_HINT = '; the client fetches a new token while its earlier ones are far from expiry: reusing tokens would use far fewer';

/** At most one line per client and mode every 10 s, with the count left out: a client over quota asks again and again. */
function logQuotaExceeded(logger: Logger, event: EndpointEventMap['quota.counted']) {
  const { clientId, isEnforced, windows, tokensOver, isRefetching, requestId } = event;
  const suppressedSinceLast = logDue(`quota ${isEnforced ? 'enforce' : 'observe'} ${clientId}`);
  if (suppressedSinceLast === undefined) return;
  const over = windows.filter((window) => (isEnforced ? window.used >= window.limit : window.used > window.limit));
  logger.warn(
    {
      event: 'quota.exceeded',
      reqId: requestId,
      clientId,
      mode: isEnforced ? 'enforce' : 'observe',
      tokensOver,
      windows: over.map(({ window, used, limit, endsAt }) => ({ window, used, limit, endsAt: new Date(endsAt).toISOString() })),
      refetching: isRefetching,
      suppressedSinceLast,
    },
    `${isEnforced ? 'token refused: client over its quota' : 'token issued past the client’s quota (observe mode: enforcing would refuse it)'}${isRefetching ? REFETCH_HINT : ''}`,
  );
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
  // Said by the quota.exceeded line, with the counts and the refetching hint.
  if (limit === 'quota') return;
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
