import { randomUUID, type X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_KEY_ROTATION_POLICY, type KeyRotationPolicy } from '../keys/rotation-policy.js';
import { rotationStepAudit, runScheduledRotation, type RotationStep } from '../keys/scheduled-rotation.js';
import { generateRecordId } from '../secrets/identifiers.js';
import type { Logger } from 'pino';
import type { Storage } from '../storage/types.js';
import { deriveSecrets } from '../keys/master-key.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import { ADMIN_API_IDENTIFIER, ADMIN_TOKEN_TTL_SECONDS } from '../admin/built-in-admin-api.js';
import { authenticateClient, type ClientAuthDeps, type ClientAuthenticator } from '../client-auth/authenticate-client.js';
import { createIssuerKeyCache } from '../federation/issuer-keys.js';
import { fetchJsonBounded } from '../federation/bounded-fetch.js';
import { createVerifiedTokenCache } from '../federation/verified-token-cache.js';
import { prepareDecoyKeys } from '../federation/platform-token.js';
import { createTokenExchangeGrant } from '../grants/token-exchange-grant.js';
import { createJwtBearerGrant } from '../grants/jwt-bearer-grant.js';
import { createFailureLimiter, type FailureLimits } from '../client-auth/failure-limiter.js';
import type { SharedState } from '../state/types.js';
import { isResilientState } from '../state/resilient-state.js';
import { createMemoryState } from '../state/memory/memory-state.js';
import { createRevocationEndpoint } from '../endpoints/revocation-endpoint.js';
import { createSecretUsageRecorder } from '../secrets/secret-usage.js';
import { createTokenRateLimiter } from '../endpoints/token-rate-limiter.js';
import type { RateLimits } from '../config/rate-limits.js';
import { createClientCredentialsGrant } from '../grants/client-credentials-grant.js';
import { createTokenEndpoint } from '../endpoints/token-endpoint.js';
import { forAudienceOnly } from '../grants/single-audience-grant.js';
import { type TokenRequest } from '../protocol/token-request.js';
import { createIntrospectionEndpoint } from '../endpoints/introspection-endpoint.js';
import { renderDiscoveryDocument, serverEndpoints, type ServerEndpoints } from '../endpoints/discovery.js';
import type { EndpointResponse } from '../protocol/endpoint-response.js';
import { createRegistryView, type RegistryView } from '../registry/registry-view.js';
import { signOnFor, type SignOn } from '../tokens/jws-signer.js';
import { createTokenIssuer } from '../tokens/token-issuer.js';
import { inspectToken } from '../tokens/inspect-token.js';
import { countEndpointEvents, createServerMetrics, type ServerMetrics } from '../observability/metrics.js';
import { logEndpointEvents, logSharedStateTransitions } from '../observability/endpoint-logs.js';
import { countRecentActivity } from '../observability/recent-activity.js';
import { createEndpointEventBus } from '../protocol/endpoint-events.js';
import { createDpopNonces } from '@m2m-auth/sdk-core';
import { createTokenEndpointDpop, DEFAULT_DPOP_PROOF_WINDOW_SECONDS } from '../sender-constraint/token-endpoint-dpop.js';
import type { Tracer } from '@opentelemetry/api';
import {
  annotateEndpointEvents,
  traceAdmin,
  traceClientAuthentication,
  traceGrant,
  traceSharedState,
  traceSigning,
  traceStorage,
} from '../observability/tracing.js';
import { createUsageRecorder, type UsageRecorder } from '../usage/usage-recorder.js';
import { createRefetchDetector } from '../usage/refetch-detector.js';
import { countUsage } from '../usage/count-usage.js';
import { createClientQuotaCheck } from '../usage/client-quota.js';
import { usageRetention } from '../usage/usage-windows.js';

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
  /** Longest token-exchange delegation chain (`act` nesting, the new actor included); default 4. */
  maxDelegationChain?: number;
  /**
   * Traces of the OAuth and admin paths (observability/start-tracing.ts makes one). Without it
   * nothing is wrapped, so the request path is the same as without tracing support.
   */
  tracer?: Tracer;
  /** Usage counting (usage/): how long counts are kept, how often they are written; `isCounting: false` counts nothing (quotas still apply). */
  usage?: UsageOptions;
  /** DPoP at the token endpoint (RFC 9449); always accepted, these only tune it. */
  dpop?: DpopSettings;
  /** Mutual TLS (RFC 8705): client certificates authenticate and bind tokens. Off when absent. */
  mutualTls?: MutualTlsSettings;
}

export interface MutualTlsSettings {
  /** The CAs that issue `tls_client_auth` certificates (`--mtls-ca`). */
  trustedCas: readonly X509Certificate[];
  /**
   * The base URL of a listener of its own for mutual TLS (`--mtls-port`): discovery names its
   * token, introspection and revocation endpoints as `mtls_endpoint_aliases` (RFC 8705 §5).
   */
  aliasBaseUrl?: string;
}

export interface UsageOptions {
  /** Daily counts are kept this many days (default 35), hourly ones 48 h (or less when this is shorter). */
  retentionDays?: number;
  /** How often counted tokens are written to the shared state (default 1000 ms). */
  flushIntervalMs?: number;
  /** Default true; false is the benchmark's baseline. */
  isCounting?: boolean;
}

export interface DpopSettings {
  /** How far a proof's iat may be from now, either way (default 60 s). */
  proofWindowSeconds?: number;
  /** Require a server nonce in every proof (RFC 9449 §8): stateless, valid on every instance with the same master key. */
  requireNonce?: boolean;
  /** How long a nonce is handed out (default 300 s; accepted for up to twice that). */
  nonceLifetimeSeconds?: number;
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
  /** Usage counting: `flush()` writes what this process counted so far, observed quotas included (tests read it back at once). */
  readonly usage: Pick<UsageRecorder, 'flush' | 'stats'>;
  /** Longest lifetime of an admin token: grants on the admin API and issued admin tokens alike. */
  readonly adminTokenMaxTtlSeconds: number;
  /** Set when tracing is on: the HTTP layer opens a span per request with it. */
  readonly tracer: Tracer | undefined;
  /** Whether client certificates are read (RFC 8705): the HTTP layer reads none without it. */
  readonly isMutualTlsOn: boolean;
  token(request: TokenRequest): Promise<EndpointResponse>;
  /**
   * The token endpoint of the admin API's own listener (where the web console signs in): the same
   * client authentication, limits and events, the client-credentials grant for the admin API only.
   */
  adminToken(request: TokenRequest): Promise<EndpointResponse>;
  /** Revocation on the admin API's own listener: only admin tokens are revoked. */
  adminRevoke(request: TokenRequest): Promise<EndpointResponse>;
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
  const { storage, logger, tracer } = options;
  // Decided once: with tracing off the ports are used as they are, nothing wraps them.
  const traced = <T>(port: T, decorate: (tracer: Tracer, port: T) => T): T => (tracer ? decorate(tracer, port) : port);
  const tracedStorage = traced(storage, traceStorage);
  const now = options.now ?? Date.now;
  const adminTokenMaxTtlSeconds = Math.min(options.adminTokenMaxTtlSeconds ?? ADMIN_TOKEN_TTL_SECONDS, ADMIN_TOKEN_TTL_SECONDS);
  const { keyEncryptionKey: kek, secretPepper, opaqueTokenPepper, dpopNonceKey } = deriveSecrets(options.masterKey);
  const endpoints = serverEndpoints(options.issuer);
  const mutualTlsMetadata = options.mutualTls && {
    ...(options.mutualTls.aliasBaseUrl ? { aliases: serverEndpoints(options.mutualTls.aliasBaseUrl) } : {}),
  };
  let discovery: Promise<string> | undefined;
  // Made before the registry, whose refresh failures it counts; it reads the keys only when scraped.
  const metrics = createServerMetrics({ signingKeys: async () => (await registry.keyRing()).records, now });
  const registry: RegistryView = createRegistryView({
    storage: tracedStorage,
    kek,
    now,
    ...(options.revisionCheckIntervalMs !== undefined ? { revisionCheckIntervalMs: options.revisionCheckIntervalMs } : {}),
    ...(options.registryCacheEntries !== undefined ? { maxEntries: options.registryCacheEntries } : {}),
    onReload: () => (discovery = undefined),
    onRefreshError: (error) => {
      metrics.storageFailed('refresh');
      logger.warn({ event: 'registry.refresh_failed', err: error }, 'registry refresh failed; serving cached data');
    },
    signOn: options.signOn ?? signOnFor(1),
  });

  metrics.observeRegistryCache(registry.stats);
  // Endpoints report what they do; metrics and logs subscribe.
  const events = createEndpointEventBus();
  countEndpointEvents(events, metrics);
  logEndpointEvents(events, logger);
  const startedAt = now();
  const activity = countRecentActivity(events, now);
  if (tracer) annotateEndpointEvents(events);

  const state = options.state ?? createMemoryState({ now });
  if (isResilientState(state)) {
    metrics.observeSharedState(state.health);
    logSharedStateTransitions(state.health, logger);
  }
  const sharedState = traced(state, traceSharedState);
  const secretUsage = createSecretUsageRecorder({
    store: storage,
    now,
    ...(options.secretUsageFlushMs !== undefined ? { flushIntervalMs: options.secretUsageFlushMs } : {}),
    onError: (error) => logger.warn({ event: 'secret_usage.flush_failed', err: error }, 'could not record secret last-use times'),
  });
  // Usage is one more subscriber to token.issued: counted in memory, written in batches off the token path.
  const usageOptions = options.usage ?? {};
  const refetches = createRefetchDetector({ now });
  const usage = createUsageRecorder({
    store: state,
    retention: usageRetention(usageOptions.retentionDays),
    ...(usageOptions.flushIntervalMs !== undefined ? { flushIntervalMs: usageOptions.flushIntervalMs } : {}),
    onLost: (error, tokens) =>
      logger.warn(
        { event: 'usage.counts_lost', err: error, tokens },
        'usage counts could not be written to the shared state; they are lost until it answers again',
      ),
    onRecovered: () => logger.info({ event: 'usage.counts_recovered' }, 'usage counts are written to the shared state again'),
  });
  if (usageOptions.isCounting !== false) countUsage(events, { recorder: usage, refetches, now });
  const quota = createClientQuotaCheck({
    counters: sharedState,
    now,
    events,
    isRefetching: refetches.isRefetching,
    ...(usageOptions.flushIntervalMs !== undefined ? { flushIntervalMs: usageOptions.flushIntervalMs } : {}),
  });
  metrics.observeUsage(usage.stats);
  const clientAuth: ClientAuthDeps = {
    registry,
    secretPepper,
    now,
    limiter: createFailureLimiter(sharedState, options.failureLimits),
    assertionAudiences: [endpoints.issuer, endpoints.tokenEndpoint, endpoints.introspectionEndpoint, endpoints.revocationEndpoint],
    assertionReplay: sharedState,
    onSecretUsed: secretUsage.record,
    federation: {
      directory: registry,
      keys: createIssuerKeyCache({
        fetchJson: (url) => fetchJsonBounded(url),
        now,
        onFetch: (issuer, error) => {
          if (error) logger.warn({ event: 'federation.keys_fetch_failed', issuer, err: error }, 'could not fetch the keys of a trusted issuer');
        },
      }),
      verified: createVerifiedTokenCache(),
      serverIssuer: endpoints.issuer,
      onOutcome: (outcome) => events.emit('client.federated', outcome),
    },
    ...(options.mutualTls ? { mutualTls: { trustedCas: options.mutualTls.trustedCas, now } } : {}),
  };
  void prepareDecoyKeys();
  const authenticate = traced<ClientAuthenticator>(
    (credentials, remoteAddress) => authenticateClient(clientAuth, credentials, remoteAddress),
    traceClientAuthentication,
  );

  // Even a grant stored before the maximum existed (or edited in the database) yields short admin tokens.
  const maxTtlSeconds = (audience: string) => (audience === ADMIN_API_IDENTIFIER ? adminTokenMaxTtlSeconds : undefined);
  // Opaque tokens live in the shared state: every worker and instance answers for them, and a revocation reaches all.
  const opaque = { store: sharedState, pepper: opaqueTokenPepper };
  // Tokens are signed with the registry's key ring: with tracing, each signature is a span.
  const tokens = createTokenIssuer({ now, newJti: randomUUID, keyRing: traced(registry, traceSigning).keyRing, opaque });
  const clientCredentials = createClientCredentialsGrant({ issuer: endpoints.issuer, registry, tokens, maxTtlSeconds });
  const grants = [
    clientCredentials,
    createTokenExchangeGrant({
      issuer: endpoints.issuer,
      registry,
      standing: { registry, revoked: sharedState },
      opaque,
      federation: { directory: registry, keys: clientAuth.federation!.keys },
      now,
      tokens,
      maxTtlSeconds,
      neverExchangedFor: [ADMIN_API_IDENTIFIER],
      ...(options.maxDelegationChain !== undefined ? { maxChainLength: options.maxDelegationChain } : {}),
    }),
    createJwtBearerGrant(clientCredentials),
  ];
  const grantTypes = grants.map((grant) => grant.grantType);
  const dpop = createTokenEndpointDpop({
    tokenEndpoint: endpoints.tokenEndpoint,
    now,
    proofWindowSeconds: options.dpop?.proofWindowSeconds ?? DEFAULT_DPOP_PROOF_WINDOW_SECONDS,
    nonces: options.dpop?.requireNonce
      ? createDpopNonces({ secret: dpopNonceKey, now, ...(options.dpop.nonceLifetimeSeconds ? { lifetimeSeconds: options.dpop.nonceLifetimeSeconds } : {}) })
      : undefined,
    replay: sharedState,
  });
  const tokenEndpointDeps = { authenticate, rateLimiter: createTokenRateLimiter(sharedState, options.rateLimits ?? {}), quota, events, dpop };
  const token = createTokenEndpoint({ ...tokenEndpointDeps, grants: grants.map((grant) => traced(grant, traceGrant)) });
  const adminToken = createTokenEndpoint({ ...tokenEndpointDeps, grants: [traced(forAudienceOnly(clientCredentials, ADMIN_API_IDENTIFIER), traceGrant)] });

  // Introspection and revocation (RFC 7662, RFC 7009) need the same: the caller authenticated, our own tokens checked, revocations.
  const tokenManagement = { issuer: endpoints.issuer, authenticate, registry, revoked: sharedState, opaque, now, events };
  const introspect = createIntrospectionEndpoint(tokenManagement);

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
      await storage.appendAuditEvent({ id: generateRecordId('evt'), at: now(), type: `key.${step.step}`, actor: 'scheduler', data: rotationStepAudit(step) });
    }
    if (steps.length > 0) registry.invalidate();
    return steps;
  }
  const rotationCheckMs = options.keyRotationCheckMs ?? 60_000;
  const rotationTimer =
    rotationCheckMs > 0 && rotationDeps.policy.rotateEveryMs > 0
      ? setInterval(
          () => rotateKeysNow().catch((error: unknown) => logger.error({ event: 'key.rotation_failed', err: error }, 'scheduled key rotation failed')),
          rotationCheckMs,
        )
      : undefined;
  rotationTimer?.unref();

  const revoke = createRevocationEndpoint(tokenManagement);
  const adminRevoke = createRevocationEndpoint({ ...tokenManagement, onlyAudience: ADMIN_API_IDENTIFIER });

  return {
    issuer: endpoints.issuer,
    now,
    endpoints,
    storage,
    registry,
    metrics,
    state,
    usage: {
      // Both batches: the tokens counted and the tokens observed against quotas.
      flush: async () => void (await Promise.all([usage.flush(), quota.flush()])),
      stats: usage.stats,
    },
    adminTokenMaxTtlSeconds,
    tracer,
    isMutualTlsOn: options.mutualTls !== undefined,
    // A write through this process's admin is applied to its own cache before the call returns.
    admin: traced(
      createAdmin({
        storage: tracedStorage,
        kek,
        secretPepper,
        now,
        actor: 'server',
        adminTokenMaxTtlSeconds,
        usage: sharedState,
        overview: {
          startedAt,
          activity,
          // A read of a key no token id takes: one round trip, whatever the kind of state.
          sharedState: { kind: state.kind, check: () => state.isTokenRevoked('health-check') },
          rotationPolicy: rotationTimer ? rotationDeps.policy : undefined,
        },
        inspectToken: (token) => inspectToken({ issuer: endpoints.issuer, keyRing: registry.keyRing, now, opaque, registry, revoked: sharedState }, token),
        onChange: () => registry.refresh(),
      }),
      traceAdmin,
    ),
    token,
    adminToken,
    introspect,
    revoke,
    adminRevoke,
    rotateKeysNow,
    close: async () => {
      clearInterval(rotationTimer);
      registry.close();
      await Promise.all([secretUsage.close(), usage.close(), quota.close()]);
    },
    jwksJson: async () => (await registry.keyRing()).jwksJson,
    discoveryJson: () => {
      discovery ??= registry.apis().then((apis) => renderDiscoveryDocument(endpoints, apis, grantTypes, mutualTlsMetadata));
      discovery.catch(() => (discovery = undefined));
      return discovery;
    },
  };
}
