import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_KEY_ROTATION_POLICY, type KeyRotationPolicy } from '../keys/rotation-policy.js';
import { runScheduledRotation, type RotationStep } from '../keys/scheduled-rotation.js';
import { generateRecordId } from '../secrets/identifiers.js';
import type { Logger } from 'pino';
import { isStorageUnavailable, type Storage } from '../storage/types.js';
import { deriveSecrets } from '../keys/master-key.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import { ADMIN_API_IDENTIFIER, ADMIN_TOKEN_TTL_SECONDS } from '../admin/built-in-admin-api.js';
import type { ClientAuthDeps } from '../client-auth/authenticate-client.js';
import { createFailureLimiter, type FailureLimits } from '../client-auth/failure-limiter.js';
import type { SharedState } from '../state/types.js';
import { isResilientState, SharedStateUnavailableError, type SharedStateHealth } from '../state/resilient-state.js';
import { createMemoryState } from '../state/memory/memory-state.js';
import { createRevocationEndpoint } from '../endpoints/revocation-endpoint.js';
import { createSecretUsageRecorder } from '../secrets/secret-usage.js';
import { createTokenRateLimiter } from '../endpoints/token-rate-limiter.js';
import type { RateLimits } from '../config/rate-limits.js';
import { throttleLimitOf } from '../errors/too-many-requests.js';
import { createClientCredentialsGrant } from '../grants/client-credentials-grant.js';
import { createTokenEndpoint } from '../endpoints/token-endpoint.js';
import { type TokenRequest } from '../protocol/token-request.js';
import { createIntrospectionEndpoint } from '../endpoints/introspection-endpoint.js';
import { renderDiscoveryDocument, serverEndpoints, type ServerEndpoints } from '../endpoints/discovery.js';
import type { EndpointResponse } from '../protocol/endpoint-response.js';
import { OAuthError } from '../errors/oauth-error.js';
import { createRegistryView, type RegistryView } from '../registry/registry-view.js';
import { signOnFor, type SignOn } from '../tokens/jws-signer.js';
import { createServerMetrics, type ServerMetrics } from '../observability/metrics.js';

export interface RuntimeOptions {
  storage: Storage;
  masterKey: Buffer;
  issuer: string;
  logger: Logger;
  now?: () => number;
  revisionCheckIntervalMs?: number;
  /** Clients kept in memory, each with its secrets and grants (default 100,000). */
  registryCacheEntries?: number;
  /** Where ECDSA and EdDSA signatures run. Default: the threadpool when this process is not alone on its cores (`signOnFor(1)`). */
  signOn?: SignOn;
  /** Revocations, used assertions and failure counters shared by every worker; default: this process only. */
  state?: SharedState;
  failureLimits?: Partial<FailureLimits>;
  /** How often secret last-use times are written (default 30 s). */
  secretUsageFlushMs?: number;
  /** Optional token-request rate limits (token buckets in the shared state). */
  rateLimits?: RateLimits;
  /** Scheduled signing-key rotation (default: every 90 days; see keys/rotation-policy.ts). */
  keyRotation?: KeyRotationPolicy;
  /** How often this process checks whether a rotation step is due (default 60 s; 0: only rotateKeysNow()). */
  keyRotationCheckMs?: number;
  /** Longest lifetime of an admin token: ADMIN_TOKEN_TTL_SECONDS (the default) or less. */
  adminTokenMaxTtlSeconds?: number;
}

/** The server without HTTP: endpoints as functions, the registry cache, and admin operations. */
export interface ServerRuntime {
  readonly issuer: string;
  /** The clock every endpoint uses (injected in tests). */
  readonly now: () => number;
  readonly endpoints: ServerEndpoints;
  readonly storage: Storage;
  readonly registry: RegistryView;
  readonly admin: Admin;
  readonly metrics: ServerMetrics;
  readonly state: SharedState;
  /** Longest lifetime of an admin token: grants on the admin API and issued admin tokens alike. */
  readonly adminTokenMaxTtlSeconds: number;
  token(request: TokenRequest): Promise<EndpointResponse>;
  introspect(request: TokenRequest): Promise<EndpointResponse>;
  revoke(request: TokenRequest): Promise<EndpointResponse>;
  /** One scheduled-rotation pass now (the timer calls it; tests call it under a fake clock). */
  rotateKeysNow(): Promise<RotationStep[]>;
  /** Stops background work and writes what is pending (not the storage or state: their owner closes them). */
  close(): Promise<void>;
  jwksJson(): Promise<string>;
  discoveryJson(): Promise<string>;
}

export function createRuntime(options: RuntimeOptions): ServerRuntime {
  const { storage, logger } = options;
  const now = options.now ?? Date.now;
  const adminTokenMaxTtlSeconds = Math.min(options.adminTokenMaxTtlSeconds ?? ADMIN_TOKEN_TTL_SECONDS, ADMIN_TOKEN_TTL_SECONDS);
  const { keyEncryptionKey: kek, secretPepper } = deriveSecrets(options.masterKey);
  const endpoints = serverEndpoints(options.issuer);
  let discovery: Promise<string> | undefined;
  const registry: RegistryView = createRegistryView({
    storage,
    kek,
    now,
    ...(options.revisionCheckIntervalMs !== undefined ? { revisionCheckIntervalMs: options.revisionCheckIntervalMs } : {}),
    ...(options.registryCacheEntries !== undefined ? { maxEntries: options.registryCacheEntries } : {}),
    onReload: () => (discovery = undefined),
    onRefreshError: (error) => logger.warn({ event: 'registry.refresh_failed', err: error }, 'registry refresh failed; serving cached data'),
    signOn: options.signOn ?? signOnFor(1),
  });

  const metrics = createServerMetrics({ signingKeys: async () => (await registry.keyRing()).records, now });

  const countThrottled = (error: unknown) => {
    const limit = throttleLimitOf(error);
    if (limit) metrics.throttled(limit);
  };
  metrics.observeRegistryCache(registry.stats);

  // The audit line of every token: its constant field is serialised once, not per token.
  const issuedLog = logger.child({ event: 'token.issued' });

  const state = options.state ?? createMemoryState({ now });
  if (isResilientState(state)) watchSharedState(state.health, metrics, logger);
  const secretUsage = createSecretUsageRecorder({
    store: storage,
    now,
    ...(options.secretUsageFlushMs !== undefined ? { flushIntervalMs: options.secretUsageFlushMs } : {}),
    onError: (error) => logger.warn({ event: 'secret_usage.flush_failed', err: error }, 'could not record secret last-use times'),
  });
  const clientAuth: ClientAuthDeps = {
    registry,
    secretPepper,
    now,
    limiter: createFailureLimiter(state, options.failureLimits),
    assertionAudiences: [endpoints.issuer, endpoints.tokenEndpoint, endpoints.introspectionEndpoint, endpoints.revocationEndpoint],
    assertionReplay: state,
    onSecretUsed: secretUsage.record,
  };

  const token = createTokenEndpoint({
    clientAuth,
    rateLimiter: createTokenRateLimiter(state, options.rateLimits ?? {}),
    grants: [
      createClientCredentialsGrant({
        issuer: endpoints.issuer,
        registry,
        now,
        newJti: randomUUID,
        // Even a grant stored before the maximum existed (or edited in the database) yields short admin tokens.
        maxTtlSeconds: (audience) => (audience === ADMIN_API_IDENTIFIER ? adminTokenMaxTtlSeconds : undefined),
      }),
    ],
    // The audit trail of token issuance is this log line, not a database write per token.
    onIssued: ({ client, grantType, result, requestId }) => {
      metrics.tokenIssued(client.clientId, result.audience);
      issuedLog.info(
        { reqId: requestId, clientId: client.clientId, grantType, audience: result.audience, scope: result.token.scope, jti: result.token.jti, expiresIn: result.token.expiresIn },
        'token issued',
      );
    },
    onError: (error, context) => {
      metrics.tokenFailed(error, context.clientId);
      countThrottled(error);
      logEndpointError(logger, 'token', error, context);
    },
  });

  const introspect = createIntrospectionEndpoint({
    issuer: endpoints.issuer,
    clientAuth,
    registry,
    revoked: state,
    now,
    onIntrospected: (result) => metrics.introspected(result),
    onError: (error, context) => {
      countThrottled(error);
      logEndpointError(logger, 'introspection', error, context);
    },
  });

  const rotationDeps = {
    storage,
    kek,
    now,
    policy: options.keyRotation ?? DEFAULT_KEY_ROTATION_POLICY,
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  };
  async function rotateKeysNow(): Promise<RotationStep[]> {
    const steps = await runScheduledRotation(rotationDeps);
    for (const step of steps) {
      logger.info({ event: `key.${step.step}`, ...step }, 'scheduled key rotation');
      await storage.appendAuditEvent({ id: generateRecordId('evt'), at: now(), type: `key.${step.step}`, actor: 'scheduler', data: { ...step } });
    }
    if (steps.length > 0) registry.invalidate();
    return steps;
  }
  const rotationCheckMs = options.keyRotationCheckMs ?? 60_000;
  const rotationTimer =
    rotationCheckMs > 0 && rotationDeps.policy.rotateEveryMs > 0
      ? setInterval(() => rotateKeysNow().catch((error: unknown) => logger.error({ event: 'key.rotation_failed', err: error }, 'scheduled key rotation failed')), rotationCheckMs)
      : undefined;
  rotationTimer?.unref();

  const revokedLog = logger.child({ event: 'token.revoked' });
  const revoke = createRevocationEndpoint({
    issuer: endpoints.issuer,
    clientAuth,
    registry,
    revoked: state,
    now,
    onRevoked: ({ clientId, jti, requestId }) => {
      metrics.tokenRevoked();
      revokedLog.info({ reqId: requestId, clientId, jti }, 'token revoked');
    },
    onError: (error, context) => {
      countThrottled(error);
      logEndpointError(logger, 'revocation', error, context);
    },
  });

  return {
    issuer: endpoints.issuer,
    now,
    endpoints,
    storage,
    registry,
    metrics,
    state,
    adminTokenMaxTtlSeconds,
    // A write through this process's admin is applied to its own cache before the call returns.
    admin: createAdmin({ storage, kek, secretPepper, now, actor: 'server', adminTokenMaxTtlSeconds, onChange: () => registry.refresh() }),
    token,
    introspect,
    revoke,
    rotateKeysNow,
    close: () => {
      clearInterval(rotationTimer);
      registry.close();
      return secretUsage.close();
    },
    jwksJson: async () => (await registry.keyRing()).jwksJson,
    discoveryJson: () => {
      discovery ??= registry.apis().then((apis) => renderDiscoveryDocument(endpoints, apis));
      discovery.catch(() => (discovery = undefined));
      return discovery;
    },
  };
}

/** One log line per transition of the shared state (never per request), and its metrics. */
function watchSharedState(health: SharedStateHealth, metrics: ServerMetrics, logger: Logger) {
  metrics.observeSharedState(health);
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

export function logEndpointError(logger: Logger, endpoint: string, error: unknown, context: { clientId?: string | undefined; requestId?: string | undefined }) {
  const { clientId, requestId: reqId } = context;
  // Logged once when the shared state goes away, counted per request in the metrics.
  if (error instanceof SharedStateUnavailableError) return;
  const limit = throttleLimitOf(error);
  if (limit) {
    const suppressedSinceLast = logDue(`${endpoint} ${limit}`);
    if (suppressedSinceLast !== undefined) logger.warn({ event: `${endpoint}.throttled`, reqId, limit, clientId, suppressedSinceLast }, 'request refused by a limit');
    return;
  }
  // The database away answers 503 to every request: a warning now and then, not a stack each time.
  if (isStorageUnavailable(error)) {
    const suppressedSinceLast = logDue(`${endpoint} storage`);
    if (suppressedSinceLast !== undefined) logger.warn({ event: `${endpoint}.storage_unavailable`, reqId, err: error.cause, suppressedSinceLast }, 'database unreachable; answered 503');
    return;
  }
  if (error instanceof OAuthError && error.status < 500) {
    logger.info({ event: `${endpoint}.rejected`, reqId, error: error.error, description: error.description, detail: error.detail, clientId }, 'request rejected');
  } else {
    logger.error({ event: `${endpoint}.failed`, reqId, err: error, clientId }, 'request failed');
  }
}
