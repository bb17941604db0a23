import { createAuthFetch, createTokenClient, isTokenClientError, type TokenClient } from '@m2m-auth/client';
import type { Admin } from '../admin/admin.js';
import { AdminError, type AdminErrorCode } from '../errors/admin-error.js';
import { ADMIN_API_IDENTIFIER } from '../admin/built-in-admin-api.js';
import { apiFromView, clientFromView, grantFromView, keyFromView, secretDetailsFromView, secretFromView } from '../admin/views.js';
import type { AuditEventRecord } from '../storage/types.js';

export interface RemoteAdminOptions {
  /** Base URL of the server (or of its admin listener); the API is at `${server}/admin/v1`. */
  server: string;
  clientId: string;
  clientSecret: string;
  /** Default `${server}/oauth/token`; set it when the admin API has its own listener. */
  tokenEndpoint?: string;
  fetch?: typeof fetch;
}

type Json = Record<string, any>;

/**
 * The Admin interface over the admin HTTP API, with tokens from m2m-auth's own client SDK (cached,
 * refreshed, one retry on 401). Records come back exactly as a local Admin returns them, so the
 * CLI prints the same thing local or remote; problem details come back as the same AdminErrors.
 */
export function createRemoteAdmin(options: RemoteAdminOptions): Admin & { close(): void } {
  const base = options.server.replace(/\/+$/, '');
  const tokens: TokenClient = createTokenClient({
    tokenEndpoint: options.tokenEndpoint ?? `${base}/oauth/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    audience: ADMIN_API_IDENTIFIER,
    backgroundRefresh: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const authFetch = createAuthFetch(tokens, options.fetch ? { fetch: options.fetch } : {});

  async function call(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<Json | undefined> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null) search.set(name, String(value));
    const url = `${base}/admin/v1${path}${search.size > 0 ? `?${search}` : ''}`;
    let response: Response;
    try {
      response = await authFetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      if (isTokenClientError(error) && error.code !== 'provider_unavailable') {
        throw new AdminError('unauthorized', `could not get an admin token from ${options.tokenEndpoint ?? `${base}/oauth/token`}: ${error.message}`);
      }
      throw new Error(`cannot reach the m2m-auth admin API at ${base}: ${describeFailure(error)}`, { cause: error });
    }
    if (response.status === 204) return undefined;
    const text = await response.text();
    const parsed = parseJson(text);
    if (response.ok && parsed) return parsed;
    throw toAdminError(response.status, parsed, base);
  }

  const enc = encodeURIComponent;
  const page = <T>(answer: Json | undefined, fromView: (view: any) => T) => ({ items: (answer!.items as unknown[]).map(fromView), nextCursor: answer!.next_cursor as string | null });
  const defined = (value: Json) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  const apiResult = (answer: Json | undefined) => ({ api: apiFromView(answer as never), ...(answer!.shared_secret ? { sharedSecret: answer!.shared_secret as string } : {}) });
  const localOnly = (what: string) => () => Promise.reject(new AdminError('validation_failed', `${what} runs on the server's host only (not with --server)`));

  const admin: Admin & { close(): void } = {
    actor: options.clientId,
    withActor: () => admin,
    // The server limits the remote caller by its own token: nothing to add here.
    asCaller: () => admin,
    close: () => tokens.close(),

    createApi: async (input) => apiResult(await call('POST', '/apis', defined({ identifier: input.identifier, name: input.name, scopes: input.scopes, signing_alg: input.signingAlg, token_ttl_seconds: input.tokenTtlSeconds }))),
    listApis: async (o = {}) => page(await call('GET', '/apis', undefined, { limit: o.limit, cursor: o.cursor }), apiFromView),
    getApi: async (identifier) => apiFromView((await call('GET', `/apis/${enc(identifier)}`)) as never),
    updateApi: async (identifier, patch) => apiResult(await call('PATCH', `/apis/${enc(identifier)}`, defined({ name: patch.name, scopes: patch.scopes, signing_alg: patch.signingAlg, token_ttl_seconds: patch.tokenTtlSeconds }))),
    deleteApi: async (identifier) => void (await call('DELETE', `/apis/${enc(identifier)}`)),

    async createClient(input) {
      const answer = (await call('POST', '/clients', defined({ name: input.name, description: input.description, default_api: input.defaultApi, token_endpoint_auth_methods: input.tokenEndpointAuthMethods, jwks: input.jwks, introspect_apis: input.introspectApis })))!;
      const client = clientFromView(answer as never);
      return { client, clientId: client.clientId, ...(answer.client_secret ? { clientSecret: answer.client_secret as string, secret: secretFromView(answer.secret) } : {}) };
    },
    listClients: async (o = {}) => page(await call('GET', '/clients', undefined, { limit: o.limit, cursor: o.cursor }), clientFromView),
    async getClient(clientId) {
      const answer = (await call('GET', `/clients/${enc(clientId)}`))!;
      return { client: clientFromView(answer as never), secrets: (answer.secrets as never[]).map(secretFromView) };
    },
    updateClient: async (clientId, patch) =>
      clientFromView((await call('PATCH', `/clients/${enc(clientId)}`, defined({ name: patch.name, description: patch.description, default_api: patch.defaultApi, enabled: patch.isEnabled, token_endpoint_auth_methods: patch.tokenEndpointAuthMethods, jwks: patch.jwks, introspect_apis: patch.introspectApis }))) as never),
    deleteClient: async (clientId) => void (await call('DELETE', `/clients/${enc(clientId)}`)),
    async rotateClientSecret(clientId, o = {}) {
      const answer = (await call('POST', `/clients/${enc(clientId)}/secrets/rotate`, defined({ grace_seconds: o.graceSeconds })))!;
      return { clientId: answer.client_id, clientSecret: answer.client_secret, secret: secretFromView(answer.secret), previousSecretsExpireAt: Date.parse(answer.previous_secrets_expire_at) };
    },

    async addClientSecret(clientId, o = {}) {
      const answer = (await call('POST', `/clients/${enc(clientId)}/secrets`, defined({ expires_in_seconds: o.expiresInSeconds })))!;
      return { clientId: answer.client_id, clientSecret: answer.client_secret, secret: secretDetailsFromView(answer.secret) };
    },
    listClientSecrets: async (clientId) => ((await call('GET', `/clients/${enc(clientId)}/secrets`))!.items as never[]).map(secretDetailsFromView),
    revokeClientSecret: async (clientId, secretId) => void (await call('DELETE', `/clients/${enc(clientId)}/secrets/${enc(secretId)}`)),

    createGrant: async (input) => grantFromView((await call('POST', '/grants', defined({ client_id: input.clientId, api: input.apiIdentifier, scopes: input.scopes, token_ttl_seconds: input.tokenTtlSeconds }))) as never),
    getGrant: async (id) => grantFromView((await call('GET', `/grants/${enc(id)}`)) as never),
    listGrants: async (o = {}) => page(await call('GET', '/grants', undefined, { limit: o.limit, cursor: o.cursor, client_id: o.clientId, api: o.apiIdentifier }), grantFromView),
    updateGrant: async (id, patch) => grantFromView((await call('PATCH', `/grants/${enc(id)}`, defined({ scopes: patch.scopes, token_ttl_seconds: patch.tokenTtlSeconds }))) as never),
    deleteGrant: async (id) => void (await call('DELETE', `/grants/${enc(id)}`)),

    listKeys: async () => ((await call('GET', '/keys'))!.items as never[]).map(keyFromView),
    getKey: async (kid) => keyFromView((await call('GET', `/keys/${enc(kid)}`)) as never),
    // The server makes its own keys at start; a remote caller has nothing to ensure.
    ensureSigningKeys: async () => [],
    async rotateSigningKey(alg = 'RS256', apiIdentifier) {
      const answer = (await call('POST', '/keys/rotate', defined({ alg, api: apiIdentifier })))!;
      return { key: keyFromView(answer.key), previous: (answer.previous as never[]).map(keyFromView), ...(answer.shared_secret ? { sharedSecret: answer.shared_secret as string } : {}) };
    },
    retireSigningKey: async (kid, o = {}) => void (await call('POST', `/keys/${enc(kid)}/retire`, undefined, { force: o.force })),
    async revokeSigningKey(kid) {
      const answer = (await call('POST', `/keys/${enc(kid)}/revoke`, {}))!;
      return { revoked: answer.revoked as string, replacement: (answer.replacement as string | null) ?? undefined };
    },

    async listAuditEvents(o = {}) {
      const answer = await call('GET', '/audit-events', undefined, { limit: o.limit, cursor: o.cursor, type: o.type, actor: o.actor, since: o.since, until: o.until });
      return page(answer, (event: Json): AuditEventRecord => ({ ...(event as AuditEventRecord), at: Date.parse(event.at) }));
    },
    // The configuration document and the apply result are plain JSON on both sides; the options
    // travel as query parameters so the body is the document itself.
    exportConfig: async (o = {}) => (await call('GET', '/config', undefined, { include_admin: o.includeAdmin || undefined })) as never,
    async applyConfig(document, o = {}) {
      const answer = (await call('POST', '/config/apply', document, { dry_run: o.dryRun || undefined, prune: o.prune || undefined, allow_admin_deletion: o.allowAdminDeletion || undefined }))!;
      return { plan: answer.plan, applied: answer.applied, createdSecrets: answer.created_secrets };
    },

    pruneAuditEvents: localOnly('pruning the audit log'),
    bootstrapAdminClient: localOnly('admin bootstrap'),
    isRegistryEmpty: localOnly('checking for an empty registry'),
    // The server upgrades its own built-in admin API at start.
    upgradeBuiltInAdminApi: async () => [],
  };
  return admin;
}

function parseJson(text: string): Json | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

const CODES: Record<string, AdminErrorCode> = { 'validation-failed': 'validation_failed', 'not-found': 'not_found', conflict: 'conflict', forbidden: 'forbidden', 'insufficient-scope': 'forbidden', unauthorized: 'unauthorized', 'invalid-token': 'unauthorized' };

/** A problem answer becomes the AdminError a local Admin would have thrown, message and field included. */
function toAdminError(status: number, problem: Json | undefined, base: string): Error {
  const type = typeof problem?.type === 'string' ? (problem.type as string).replace(/^urn:m2m-auth:problem:/, '') : '';
  const code = CODES[type];
  const detail = typeof problem?.detail === 'string' ? (problem.detail as string) : `the admin API at ${base} answered ${status}`;
  if (!code) return new Error(`${detail} (HTTP ${status})`);
  const field = Array.isArray(problem?.errors) && problem!.errors[0]?.field ? String(problem!.errors[0].field) : undefined;
  return new AdminError(code, detail, field);
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  return code ? `${code} (${message})` : message;
}
