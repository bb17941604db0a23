import { Ajv, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { createAuthFetch, createTokenClient, isTokenClientError, type TokenClient } from '@m2m-auth/client';
import type { Admin } from '../admin/admin.js';
import { AdminError, type AdminErrorCode } from '../errors/admin-error.js';
import { ADMIN_API_IDENTIFIER } from '../admin/built-in-admin-api.js';
import { pageOf } from '../admin/resources/common.js';
import { apiResource, ApiWithSecret, createApi, updateApi } from '../admin/resources/api.js';
import { ClientDetail, clientResource, clientSecrets, CreatedClient, createdClientExtras, createClient, updateClient } from '../admin/resources/client.js';
import { addedSecret, addSecret, clientSecretList, rotatedSecret, rotateSecret } from '../admin/resources/client-secret.js';
import { createGrant, grantFilter, grantResource, updateGrant } from '../admin/resources/grant.js';
import { addTrustedIssuer, trustedIssuerResource, updateTrustedIssuer } from '../admin/resources/trusted-issuer.js';
import { addFederatedCredential, federatedCredentialList, federatedCredentialResource } from '../admin/resources/federated-credential.js';
import { addExchangePolicy, exchangePolicyFilter, exchangePolicyResource } from '../admin/resources/exchange-policy.js';
import { revokedKey, rotatedKey, rotateKey, signingKeyList, signingKeyResource } from '../admin/resources/signing-key.js';
import { auditEventResource } from '../admin/resources/audit-event.js';
import { applyResult, ConfigDocumentAnswer } from '../admin/resources/config-document.js';
import { usageFilter, usageView } from '../admin/resources/usage.js';
import { overviewView } from '../admin/resources/overview.js';
import { inspectTokenRequest, tokenInspectionView } from '../admin/resources/token-inspection.js';

export interface RemoteAdminOptions {
  /** Base URL of the server (or of its admin listener); the API is at `${server}/admin/v1`. */
  server: string;
  clientId: string;
  clientSecret: string;
  /** Default `${server}/oauth/token` (an own admin listener answers it too, for admin tokens). */
  tokenEndpoint?: string;
  fetch?: typeof fetch;
}

type Json = Record<string, unknown>;

/*
 * Answers are checked against the same schemas the server answers with (admin/resources/), so
 * what comes back is typed by them, not assumed. Fields a newer server adds are dropped, not
 * refused; formats are the server's business.
 */
const answers = new Ajv({ strict: false, validateFormats: false, removeAdditional: true });
const checkers = new WeakMap<TSchema, ValidateFunction>();
function checked<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  const check: ValidateFunction<Static<S>> = checkers.get(schema) ?? answers.compile<Static<S>>(schema);
  checkers.set(schema, check);
  if (check(value)) return value;
  throw new Error(`the admin API answered ${what} with an unexpected body: ${answers.errorsText(check.errors)}`);
}

/**
 * The Admin interface over the admin HTTP API, with tokens from m2m-auth's own client SDK (cached,
 * refreshed, one retry on 401). Records come back exactly as a local Admin returns them (the
 * resource codecs read the answers back), so the CLI prints the same thing local or remote;
 * problem details come back as the same AdminErrors.
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

  /** One request; undefined for 204. */
  async function send(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<Json | undefined> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null) search.set(name, String(value));
    const url = `${base}/admin/v1${path}${search.size > 0 ? `?${search}` : ''}`;
    let response: Response;
    try {
      response = await authFetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
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
  /** A request whose answer the schema describes. */
  const call = async <S extends TSchema>(answer: S, method: string, path: string, body?: unknown, query?: Record<string, unknown>) =>
    checked(answer, await send(method, path, body, query), `${method} ${path}`);
  const noContent = async (method: string, path: string, query?: Record<string, unknown>) => void (await send(method, path, undefined, query));

  const enc = encodeURIComponent;
  const page = <T, W>(answer: { items: W[]; next_cursor: string | null }, fromWire: (wire: W) => T) => ({
    items: answer.items.map(fromWire),
    nextCursor: answer.next_cursor,
  });
  const apiResult = (answer: Static<typeof ApiWithSecret>) => ({
    api: apiResource.fromWire(answer),
    ...(answer.shared_secret ? { sharedSecret: answer.shared_secret } : {}),
  });
  const localOnly = (what: string) => () => Promise.reject(new AdminError('validation_failed', `${what} runs on the server's host only (not with --server)`));

  const admin: Admin & { close(): void } = {
    actor: options.clientId,
    withActor: () => admin,
    // The server limits the remote caller by its own token: nothing to add here.
    asCaller: () => admin,
    close: () => tokens.close(),

    createApi: async (input) => apiResult(await call(ApiWithSecret, 'POST', '/apis', createApi.toWire(input))),
    listApis: async (o = {}) =>
      page(await call(pageOf(apiResource.schema), 'GET', '/apis', undefined, { limit: o.limit, cursor: o.cursor }), apiResource.fromWire),
    getApi: async (identifier) => apiResource.fromWire(await call(apiResource.schema, 'GET', `/apis/${enc(identifier)}`)),
    updateApi: async (identifier, patch) => apiResult(await call(ApiWithSecret, 'PATCH', `/apis/${enc(identifier)}`, updateApi.toWire(patch))),
    deleteApi: (identifier) => noContent('DELETE', `/apis/${enc(identifier)}`),

    async createClient(input) {
      const answer = await call(CreatedClient, 'POST', '/clients', createClient.toWire(input));
      const client = clientResource.fromWire(answer);
      return { client, clientId: client.clientId, ...createdClientExtras.fromWire(answer) };
    },
    listClients: async (o = {}) =>
      page(await call(pageOf(clientResource.schema), 'GET', '/clients', undefined, { limit: o.limit, cursor: o.cursor }), clientResource.fromWire),
    async getClient(clientId) {
      const answer = await call(ClientDetail, 'GET', `/clients/${enc(clientId)}`);
      return { client: clientResource.fromWire(answer), ...clientSecrets.fromWire(answer) };
    },
    updateClient: async (clientId, patch) =>
      clientResource.fromWire(await call(clientResource.schema, 'PATCH', `/clients/${enc(clientId)}`, updateClient.toWire(patch))),
    deleteClient: (clientId) => noContent('DELETE', `/clients/${enc(clientId)}`),
    rotateClientSecret: async (clientId, o = {}) =>
      rotatedSecret.fromWire(await call(rotatedSecret.schema, 'POST', `/clients/${enc(clientId)}/secrets/rotate`, rotateSecret.toWire(o))),

    addClientSecret: async (clientId, o = {}) =>
      addedSecret.fromWire(await call(addedSecret.schema, 'POST', `/clients/${enc(clientId)}/secrets`, addSecret.toWire(o))),
    listClientSecrets: async (clientId) => clientSecretList.fromWire(await call(clientSecretList.schema, 'GET', `/clients/${enc(clientId)}/secrets`)).items,
    revokeClientSecret: (clientId, secretId) => noContent('DELETE', `/clients/${enc(clientId)}/secrets/${enc(secretId)}`),

    addFederatedCredential: async (clientId, input) =>
      federatedCredentialResource.fromWire(
        await call(federatedCredentialResource.schema, 'POST', `/clients/${enc(clientId)}/federated-credentials`, addFederatedCredential.toWire(input)),
      ),
    listFederatedCredentials: async (clientId) =>
      federatedCredentialList.fromWire(await call(federatedCredentialList.schema, 'GET', `/clients/${enc(clientId)}/federated-credentials`)).items,
    removeFederatedCredential: (clientId, credentialId) => noContent('DELETE', `/clients/${enc(clientId)}/federated-credentials/${enc(credentialId)}`),

    addTrustedIssuer: async (input) =>
      trustedIssuerResource.fromWire(await call(trustedIssuerResource.schema, 'POST', '/trusted-issuers', addTrustedIssuer.toWire(input))),
    listTrustedIssuers: async (o = {}) =>
      page(
        await call(pageOf(trustedIssuerResource.schema), 'GET', '/trusted-issuers', undefined, { limit: o.limit, cursor: o.cursor }),
        trustedIssuerResource.fromWire,
      ),
    getTrustedIssuer: async (issuer) => trustedIssuerResource.fromWire(await call(trustedIssuerResource.schema, 'GET', `/trusted-issuers/${enc(issuer)}`)),
    updateTrustedIssuer: async (issuer, patch) =>
      trustedIssuerResource.fromWire(await call(trustedIssuerResource.schema, 'PATCH', `/trusted-issuers/${enc(issuer)}`, updateTrustedIssuer.toWire(patch))),
    removeTrustedIssuer: (issuer, o = {}) => noContent('DELETE', `/trusted-issuers/${enc(issuer)}`, { force: o.force }),

    addExchangePolicy: async (input) =>
      exchangePolicyResource.fromWire(await call(exchangePolicyResource.schema, 'POST', '/exchange-policies', addExchangePolicy.toWire(input))),
    listExchangePolicies: async (o = {}) =>
      page(
        await call(pageOf(exchangePolicyResource.schema), 'GET', '/exchange-policies', undefined, {
          limit: o.limit,
          cursor: o.cursor,
          ...exchangePolicyFilter.toWire(o),
        }),
        exchangePolicyResource.fromWire,
      ),
    getExchangePolicy: async (id) => exchangePolicyResource.fromWire(await call(exchangePolicyResource.schema, 'GET', `/exchange-policies/${enc(id)}`)),
    removeExchangePolicy: (id) => noContent('DELETE', `/exchange-policies/${enc(id)}`),

    createGrant: async (input) => grantResource.fromWire(await call(grantResource.schema, 'POST', '/grants', createGrant.toWire(input))),
    getGrant: async (id) => grantResource.fromWire(await call(grantResource.schema, 'GET', `/grants/${enc(id)}`)),
    listGrants: async (o = {}) =>
      page(
        await call(pageOf(grantResource.schema), 'GET', '/grants', undefined, { limit: o.limit, cursor: o.cursor, ...grantFilter.toWire(o) }),
        grantResource.fromWire,
      ),
    updateGrant: async (id, patch) => grantResource.fromWire(await call(grantResource.schema, 'PATCH', `/grants/${enc(id)}`, updateGrant.toWire(patch))),
    deleteGrant: (id) => noContent('DELETE', `/grants/${enc(id)}`),

    listKeys: async () => signingKeyList.fromWire(await call(signingKeyList.schema, 'GET', '/keys')).items,
    getKey: async (kid) => signingKeyResource.fromWire(await call(signingKeyResource.schema, 'GET', `/keys/${enc(kid)}`)),
    // The server makes its own keys at start; a remote caller has nothing to ensure.
    ensureSigningKeys: async () => [],
    rotateSigningKey: async (alg = 'RS256', apiIdentifier) =>
      rotatedKey.fromWire(await call(rotatedKey.schema, 'POST', '/keys/rotate', rotateKey.toWire({ alg, apiIdentifier }))),
    retireSigningKey: (kid, o = {}) => noContent('POST', `/keys/${enc(kid)}/retire`, { force: o.force }),
    revokeSigningKey: async (kid) => revokedKey.fromWire(await call(revokedKey.schema, 'POST', `/keys/${enc(kid)}/revoke`, {})),

    listAuditEvents: async (o = {}) =>
      page(
        await call(pageOf(auditEventResource.schema), 'GET', '/audit-events', undefined, {
          limit: o.limit,
          cursor: o.cursor,
          type: o.type,
          actor: o.actor,
          since: o.since,
          until: o.until,
        }),
        auditEventResource.fromWire,
      ),
    // The options travel as query parameters so the body is the document itself.
    exportConfig: async (o = {}) => call(ConfigDocumentAnswer, 'GET', '/config', undefined, { include_admin: o.includeAdmin || undefined }),
    applyConfig: async (document, o = {}) =>
      applyResult.fromWire(
        await call(applyResult.schema, 'POST', '/config/apply', document, {
          dry_run: o.dryRun || undefined,
          prune: o.prune || undefined,
          allow_admin_deletion: o.allowAdminDeletion || undefined,
        }),
      ),

    readUsage: async (filter = {}) => usageView.fromWire(await call(usageView.schema, 'GET', '/usage', undefined, usageFilter.toWire(filter))),
    readOverview: async () => overviewView.fromWire(await call(overviewView.schema, 'GET', '/overview')),
    inspectToken: async (token) =>
      tokenInspectionView.fromWire(await call(tokenInspectionView.schema, 'POST', '/tokens/inspect', inspectTokenRequest.toWire({ token }))),

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

const CODES: Record<string, AdminErrorCode> = {
  'validation-failed': 'validation_failed',
  'not-found': 'not_found',
  conflict: 'conflict',
  forbidden: 'forbidden',
  'insufficient-scope': 'forbidden',
  unauthorized: 'unauthorized',
  'invalid-token': 'unauthorized',
};

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
