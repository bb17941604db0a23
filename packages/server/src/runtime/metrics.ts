import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'm2m_auth_' });
  const issued = new Counter({
    name: 'm2m_auth_tokens_issued_total',
    help: 'Access tokens issued, by client and audience',
    labelNames: ['client_id', 'audience'],
    registers: [registry],
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
  // Label children are looked up once per label set and kept: prom-client would otherwise hash the
  // label object on every token. The sets are bounded (registered clients × APIs, status codes).
  const issuedByLabels = new Map<string, ReturnType<typeof issued.labels>>();
  const durationByLabels = new Map<string, ReturnType<typeof duration.labels>>();
  return {
    registry,
    tokenIssued: (clientId, audience) => {
      const key = `${clientId} ${audience}`;
      let child = issuedByLabels.get(key);
      if (!child) issuedByLabels.set(key, (child = issued.labels({ client_id: clientId, audience })));
      child.inc();
    },
    tokenFailed: (error, clientId) =>
      failed.inc({ error: error instanceof OAuthError ? error.error : 'server_error', client_id: clientId ?? 'unknown' }),
    observeRequest: (endpoint, status, seconds) => {
      const key = `${endpoint} ${status}`;
      let child = durationByLabels.get(key);
      if (!child) durationByLabels.set(key, (child = duration.labels({ endpoint, status: String(status) })));
      child.observe(seconds);
    },
  };
}
