import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EndpointEventBus, EndpointEventMap } from '../protocol/endpoint-events.js';
import type { UsageRecorderStats } from '../usage/usage-recorder.js';
import { throttleLimitOf } from '../errors/too-many-requests.js';
import type { RegistryCacheStats } from '../registry/registry-view.js';
import type { SigningKeyRecord } from '../storage/types.js';
import { toOAuthResponse } from '../errors/to-oauth-response.js';
import type { SharedStateHealth } from '../state/resilient-state.js';
import { isStorageUnavailable } from '../storage/types.js';

/**
 * Prometheus metrics. Labels carry only bounded, non-secret values: an authenticated client's id,
 * a registered API, an OAuth error code. An unauthenticated caller is labelled `unknown`, so
 * guessed client ids cannot grow the label set.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  tokenIssued(clientId: string, audience: string): void;
  tokenFailed(error: unknown, clientId: string | undefined): void;
  observeRequest(endpoint: string, status: number, seconds: number): void;
  /** Reports the registry cache (read when Prometheus scrapes, never per request). */
  observeRegistryCache(stats: () => RegistryCacheStats): void;
  introspected(result: 'active' | 'inactive' | 'not_allowed'): void;
  tokenRevoked(): void;
  /** A request refused by the failure limiter or a rate limit, by which (`failures`, `client`, `address`). */
  throttled(limit: string): void;
  /** A federated (platform-token) authentication, by trusted issuer (`unknown` for any other) and result. */
  federatedAuthentication(issuer: string | undefined, result: string): void;
  /** Reports whether the shared state (Redis) answers and what was done without it (read when scraped). */
  observeSharedState(health: SharedStateHealth): void;
  /** A request answered 503 because the database could not be reached, or a failed background refresh of the registry cache. */
  storageFailed(source: 'request' | 'refresh'): void;
  /** A token counted against its client's quota: the used/limit ratio of each window, and whether it was (or would have been) refused. */
  quotaCounted(event: EndpointEventMap['quota.counted']): void;
  /** Reports usage counting: tokens written to the shared state and tokens lost (read when scraped). */
  observeUsage(stats: () => UsageRecorderStats): void;
}

export function createServerMetrics(options: { signingKeys?: () => Promise<readonly SigningKeyRecord[]>; now?: () => number } = {}): ServerMetrics {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  if (options.signingKeys) {
    const signingKeys = options.signingKeys;
    new Gauge({
      name: 'm2m_auth_signing_key_age_seconds',
      help: 'Age of each signing key that signs new tokens, by algorithm (rotation is due when it nears the schedule)',
      labelNames: ['alg', 'kid'],
      registers: [registry],
      // Every worker reports the same keys: combine them, do not add them up.
      aggregator: 'max',
      async collect() {
        this.reset();
        for (const key of await signingKeys()) {
          if (key.status === 'active') this.set({ alg: key.alg, kid: key.kid }, Math.floor((now() - key.createdAt) / 1000));
        }
      },
    });
  }
  collectDefaultMetrics({ register: registry, prefix: 'm2m_auth_' });
  // Issued tokens are counted in plain Maps and handed to Prometheus as they are when it scrapes:
  // prom-client hashes and validates the label set on every inc(), even through a labels() child
  // (~0.6 µs per token under load), and keeps its own label object per series between scrapes
  // (~300 bytes per client at 100,000 clients) only while a scrape is built. Keys are the cached records' own strings, so a
  // series costs one Map slot. The set is bounded (registered clients × APIs).
  const issuedCounts = new Map<string, Map<string, number>>();
  const issued = new Counter({
    name: 'm2m_auth_tokens_issued_total',
    help: 'Access tokens issued, by client and audience',
    labelNames: ['client_id', 'audience'],
    registers: [registry],
    collect() {
      for (const [audience, byClient] of issuedCounts) for (const [clientId, count] of byClient) this.inc({ client_id: clientId, audience }, count);
    },
  });
  // The series prom-client builds for a scrape are dropped once it has them: the Maps above are the counts.
  const collectIssued = issued.get.bind(issued);
  issued.get = async () => {
    const snapshot = await collectIssued();
    issued.reset();
    return snapshot;
  };
  const failed = new Counter({
    name: 'm2m_auth_token_errors_total',
    help: 'Token requests refused, by OAuth error code and client (unknown when not authenticated)',
    labelNames: ['error', 'client_id'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'm2m_auth_http_request_duration_seconds',
    help: 'Latency of the OAuth endpoints',
    labelNames: ['endpoint', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const introspections = new Counter({
    name: 'm2m_auth_introspections_total',
    help: 'Introspection answers by result (not_allowed: the caller may not introspect that audience)',
    labelNames: ['result'],
    registers: [registry],
  });
  const revocations = new Counter({ name: 'm2m_auth_revocations_total', help: 'Tokens revoked by their client (RFC 7009)', registers: [registry] });
  const throttled = new Counter({
    name: 'm2m_auth_throttled_total',
    help: 'Requests refused with 429: failed-authentication back-off (failures), rate limits (client, address) or a client allowance in the shared state (revocations, assertions, opaque_tokens)',
    labelNames: ['limit'],
    registers: [registry],
  });
  const federated = new Counter({
    name: 'm2m_auth_federated_authentications_total',
    help: 'Platform tokens presented instead of a secret, by trusted issuer (unknown: not a trusted one) and result (success or why refused)',
    labelNames: ['issuer', 'result'],
    registers: [registry],
  });
  const storageErrors = new Counter({
    name: 'm2m_auth_storage_errors_total',
    help: 'Database failures: requests answered 503 because the database could not be reached (source=request), failed background refreshes of the registry cache (source=refresh)',
    labelNames: ['source'],
    registers: [registry],
  });
  // Both series exist from the start, so a rate() over them is 0, not absent, until the first error.
  for (const source of ['request', 'refresh']) storageErrors.inc({ source }, 0);
  // The latest count of each quota window seen by this instance (the count is the shared one).
  // Bounded: clients with a quota × 2 windows; an ended window reads 0 and is dropped.
  const quotaWindows = new Map<string, { clientId: string; window: string; used: number; limit: number; endsAt: number }>();
  new Gauge({
    name: 'm2m_auth_client_quota_used_ratio',
    help: 'Tokens issued in the current window over the client’s quota for it (1: the quota is used up), by client and window (hour, day); only clients with a quota',
    labelNames: ['client_id', 'window'],
    registers: [registry],
    // Every worker reports the shared count as it last saw it: the highest is the latest.
    aggregator: 'max',
    collect() {
      this.reset();
      const at = now();
      for (const [key, entry] of quotaWindows) {
        if (entry.endsAt <= at) quotaWindows.delete(key);
        else this.set({ client_id: entry.clientId, window: entry.window }, entry.used / entry.limit);
      }
    },
  });
  const quotaExceeded = new Counter({
    name: 'm2m_auth_quota_exceeded_total',
    help: 'Tokens past a client’s quota: refused with 429 (mode=enforce) or issued but counted as what enforcing would refuse (mode=observe), by client',
    labelNames: ['client_id', 'mode'],
    registers: [registry],
  });
  // One labels() child per endpoint and status, found without building a key or a label object per
  // request (prom-client still hashes the set on each observe; the set is bounded).
  const durationByEndpoint = new Map<string, Map<number, ReturnType<typeof duration.labels>>>();
  return {
    registry,
    observeRegistryCache(stats) {
      new Gauge({
        name: 'm2m_auth_registry_cache_entries',
        help: 'Clients cached, each with its secrets and grants (kind=positive), and misses remembered (kind=negative)',
        labelNames: ['kind'],
        registers: [registry],
        collect() {
          const current = stats();
          this.set({ kind: 'positive' }, current.entries);
          this.set({ kind: 'negative' }, current.negativeEntries);
        },
      });
      new Gauge({
        name: 'm2m_auth_registry_cache_capacity',
        help: 'Most entries the registry cache keeps, by kind; past it the least recently used go',
        labelNames: ['kind'],
        registers: [registry],
        collect() {
          const current = stats();
          this.set({ kind: 'positive' }, current.capacity);
          this.set({ kind: 'negative' }, current.negativeCapacity);
        },
      });
      new Gauge({
        name: 'm2m_auth_registry_loads',
        help: 'Storage reads for uncached records: in flight, queued, and refused (total) because the queue was full',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          const { loads } = stats();
          this.set({ state: 'in_flight' }, loads.inFlight);
          this.set({ state: 'queued' }, loads.queued);
          this.set({ state: 'refused_total' }, loads.refused);
        },
      });
    },
    observeSharedState(health) {
      new Gauge({
        name: 'm2m_auth_shared_state_available',
        help: '1 while the shared state (Redis) answers, 0 while limits are per instance and replay and revocation checks are refused',
        registers: [registry],
        // Under --workers N: 0 when any worker is without it.
        aggregator: 'min',
        collect() {
          this.set(health.isAvailable() ? 1 : 0);
        },
      });
      new Counter({
        name: 'm2m_auth_shared_state_fallback_total',
        help: 'Shared-state operations done without Redis: answered from this instance’s memory (outcome=local) or refused (outcome=refused)',
        labelNames: ['operation', 'outcome'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { operation, outcome, count } of health.fallbackCounts()) this.inc({ operation, outcome }, count);
        },
      });
    },
    quotaCounted({ clientId, windows, isEnforced, tokensOver }) {
      for (const { window, used, limit, endsAt } of windows) quotaWindows.set(`${clientId}\n${window}`, { clientId, window, used, limit, endsAt });
      if (tokensOver > 0) quotaExceeded.inc({ client_id: clientId, mode: isEnforced ? 'enforce' : 'observe' }, tokensOver);
    },
    observeUsage(stats) {
      new Counter({
        name: 'm2m_auth_usage_tokens_recorded_total',
        help: 'Issued tokens written to the usage counts in the shared state (in batches, about once a second)',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(stats().recorded);
        },
      });
      new Counter({
        name: 'm2m_auth_usage_tokens_lost_total',
        help: 'Issued tokens missing from the usage counts: the shared state refused their batch (reason=shared_state, e.g. Redis away) or too many clients and APIs waited for one flush (reason=pending_full)',
        labelNames: ['reason'],
        registers: [registry],
        collect() {
          this.reset();
          const { lost } = stats();
          this.inc({ reason: 'shared_state' }, lost.sharedState);
          this.inc({ reason: 'pending_full' }, lost.pendingFull);
        },
      });
    },
    tokenIssued: (clientId, audience) => {
      let byClient = issuedCounts.get(audience);
      if (!byClient) issuedCounts.set(audience, (byClient = new Map()));
      byClient.set(clientId, (byClient.get(clientId) ?? 0) + 1);
    },
    tokenFailed: (error, clientId) => failed.inc({ error: toOAuthResponse(error).body.error, client_id: clientId ?? 'unknown' }),
    introspected: (result) => introspections.inc({ result }),
    tokenRevoked: () => revocations.inc(),
    throttled: (limit) => throttled.inc({ limit }),
    // The issuer label is a trusted issuer (an operator's bounded list) or `unknown`, never a caller's string.
    federatedAuthentication: (issuer, result) => federated.inc({ issuer: issuer ?? 'unknown', result }),
    storageFailed: (source) => storageErrors.inc({ source }),
    observeRequest: (endpoint, status, seconds) => {
      let byStatus = durationByEndpoint.get(endpoint);
      if (!byStatus) durationByEndpoint.set(endpoint, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = duration.labels({ endpoint, status: String(status) })));
      child.observe(seconds);
    },
  };
}

/** The endpoints' metrics, as a subscriber to what they emit. */
export function countEndpointEvents(events: EndpointEventBus, metrics: ServerMetrics): void {
  const countRefusalCause = (error: unknown) => {
    const limit = throttleLimitOf(error);
    if (limit) metrics.throttled(limit);
    if (isStorageUnavailable(error)) metrics.storageFailed('request');
  };
  events.on('token.issued', ({ clientId, audience }) => metrics.tokenIssued(clientId, audience));
  events.on('token.failed', ({ error, clientId }) => {
    metrics.tokenFailed(error, clientId);
    countRefusalCause(error);
  });
  events.on('introspection.answered', ({ result }) => metrics.introspected(result));
  events.on('introspection.failed', ({ error }) => countRefusalCause(error));
  events.on('token.revoked', () => metrics.tokenRevoked());
  events.on('client.federated', ({ issuer, result }) => metrics.federatedAuthentication(issuer, result));
  events.on('quota.counted', (event) => metrics.quotaCounted(event));
  events.on('revocation.failed', ({ error }) => countRefusalCause(error));
}
