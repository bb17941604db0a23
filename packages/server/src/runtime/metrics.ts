import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryCacheStats } from './registry-view.js';
import { OAuthError } from '../errors/oauth-error.js';

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
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'm2m_auth_' });
  // Issued tokens are counted in a plain Map and handed to prom-client when Prometheus scrapes:
  // prom-client hashes and validates the label set on every inc(), even through a labels() child,
  // and that cost ~0.6 µs per token under load. The set is bounded (registered clients × APIs).
  const issuedCounts = new Map<string, { labels: { client_id: string; audience: string }; count: number }>();
  new Counter({
    name: 'm2m_auth_tokens_issued_total',
    help: 'Access tokens issued, by client and audience',
    labelNames: ['client_id', 'audience'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, count } of issuedCounts.values()) this.inc(labels, count);
    },
  });
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
  // One labels() child per endpoint and status, found without building a key or a label object per
  // request (prom-client still hashes the set on each observe; the set is bounded).
  const durationByEndpoint = new Map<string, Map<number, ReturnType<typeof duration.labels>>>();
  return {
    registry,
    observeRegistryCache(stats) {
      new Gauge({
        name: 'm2m_auth_registry_cache_entries',
        help: 'Registry records cached (kind=positive) and misses remembered (kind=negative)',
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
    tokenIssued: (clientId, audience) => {
      const key = `${clientId}\n${audience}`;
      const entry = issuedCounts.get(key);
      if (entry) entry.count += 1;
      else issuedCounts.set(key, { labels: { client_id: clientId, audience }, count: 1 });
    },
    tokenFailed: (error, clientId) =>
      failed.inc({ error: error instanceof OAuthError ? error.error : 'server_error', client_id: clientId ?? 'unknown' }),
    observeRequest: (endpoint, status, seconds) => {
      let byStatus = durationByEndpoint.get(endpoint);
      if (!byStatus) durationByEndpoint.set(endpoint, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = duration.labels({ endpoint, status: String(status) })));
      child.observe(seconds);
    },
  };
}
