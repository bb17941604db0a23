/**
 * The admin API's answers as the console reads them (docs/admin-api.md; the OpenAPI document is
 * packages/server/openapi/admin-v1.json). Only the fields the console shows are named.
 */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface ApiScope {
  value: string;
  description: string;
}

export interface Api {
  identifier: string;
  name: string;
  scopes: ApiScope[];
  signing_alg: string;
  token_ttl_seconds: number;
  token_format: 'jwt' | 'opaque';
  require_sender_constrained: boolean;
  created_at: string;
}

export interface SecretSummary {
  id: string;
  hint: string;
  created_at: string;
  expires_at: string | null;
  last_used_at?: string | null;
}

export interface Client {
  client_id: string;
  name: string;
  description: string;
  default_api: string | null;
  enabled: boolean;
  token_endpoint_auth_methods: string[];
  introspect_apis: string[];
  dpop_bound_access_tokens: boolean;
  created_at: string;
}

export interface CreatedClient extends Client {
  client_secret?: string;
}

export interface FederatedCredential {
  id: string;
  issuer: string;
  subject: string;
  subject_match: 'exact' | 'prefix';
  audiences: string[];
  description?: string;
}

export interface Grant {
  id: string;
  client_id: string;
  api: string;
  scopes: string[];
  token_ttl_seconds: number | null;
}

export type KeyStatus = 'pending' | 'active' | 'published' | 'retired';

export interface SigningKey {
  kid: string;
  alg: string;
  status: KeyStatus;
  api: string | null;
  created_at: string;
  rotated_at: string | null;
}

export interface AuditEvent {
  id: string;
  at: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

export interface Overview {
  generated_at: string;
  instance: { started_at: string };
  tokens_per_minute: { minute: string; issued: number; failed: number }[];
  failures_by_reason: { reason: string; count: number }[];
  busiest_clients: { client_id: string; name: string; issued: number }[];
  failing_clients: { client_id: string; name: string; failed: number; last_error: string }[];
  keys?: { kid: string; alg: string; status: KeyStatus; age_seconds: number; created_at: string }[];
  next_rotation: string | null;
  health: {
    database: { ok: boolean; latency_ms: number | null };
    shared_state: { ok: boolean; latency_ms: number | null; kind: string };
  };
}

export interface Inspection {
  format: 'jwt' | 'opaque' | 'unknown';
  signature: 'valid' | 'invalid' | 'unknown_key' | 'not_applicable';
  issued_here: boolean;
  active: boolean;
  revoked: boolean;
  expired: boolean;
  reason?: string | null;
  header?: Record<string, unknown> | null;
  claims?: Record<string, unknown> | null;
}

export interface PlanChange {
  action: 'create' | 'update' | 'delete';
  resource: string;
  key: string;
  after?: Record<string, unknown>;
  changes?: Record<string, { before: unknown; after: unknown }>;
}

export interface ApplyResult {
  plan: { changes: PlanChange[]; kept: { resource: string; key: string }[] };
  applied: boolean;
  created_secrets: (
    { resource: 'client'; client_id: string; name: string; client_secret: string } | { resource: 'api'; identifier: string; shared_secret: string }
  )[];
}
