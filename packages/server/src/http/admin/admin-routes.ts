import { Ajv, type ErrorObject } from 'ajv';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { ServerRuntime } from '../../boot/create-runtime.js';
import type { Admin } from '../../admin/admin.js';
import { apiView, clientView, grantView, keyView, secretDetailsView, secretView } from '../../admin/views.js';
import { ADMIN_API_IDENTIFIER, ADMIN_SCOPES, ADMIN_TOKEN_TTL_SECONDS, type AdminScope } from '../../admin/built-in-admin-api.js';
import { parseTime } from '../../admin/parse-time.js';
import { problemResponse, toProblemResponse } from '../../errors/problem-details.js';
import { isAdminError } from '../../errors/admin-error.js';
import { echo } from '../../errors/echo.js';
import type { EndpointResponse } from '../../protocol/endpoint-response.js';
import { sendEndpointResponse as send } from '../send-endpoint-response.js';
import { createAdminAuthenticator, AdminAuthFailure, ADMIN_REALM, type AdminCaller } from './admin-auth.js';
import * as schemas from './admin-schemas.js';
import { useStorableInput } from './storable-input.js';

export const ADMIN_PREFIX = '/admin/v1';
export const OPENAPI_PATH = `${ADMIN_PREFIX}/openapi.json`;
/** Admin bodies carry JWK Sets and, for `apply`, whole registries: larger than token requests. */
const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** A document of 10,000 clients with grants is ~4 MiB of JSON. */
const APPLY_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The admin scopes a route needs (all of them); routes without are public (the OpenAPI document). */
    adminScopes?: AdminScope[];
  }
  interface FastifyRequest {
    adminCaller?: AdminCaller;
  }
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Every scope listed is needed. */
  scope: AdminScope | AdminScope[];
  summary: string;
  bodyLimit?: number;
  body?: object;
  querystring?: object;
  params?: Record<string, string>;
  /** Success status and its schema; null for 204. */
  success: [number, object | null];
  handler: (admin: Admin, request: FastifyRequest) => Promise<unknown>;
}

/**
 * The admin REST API (`/admin/v1`): one route table drives validation, authorization and the
 * OpenAPI document. Every operation is the shared Admin's, run as the calling admin client so the
 * audit log names it.
 */
export function registerAdminApi(app: FastifyInstance, runtime: ServerRuntime): void {
  app.register(
    async (admin) => {
      await admin.register(swagger, {
        openapi: {
          openapi: '3.1.0',
          info: {
            title: 'm2m-auth admin API',
            version: '1.0.0',
            description: `Manage APIs, clients, grants, signing keys and the audit log. Authenticate with an access token of ${ADMIN_API_IDENTIFIER} (client credentials grant, audience=${ADMIN_API_IDENTIFIER}); each operation names the scope it needs. Errors are RFC 9457 problem details.\n\n` +
              `Nobody confers what they do not hold: a grant on ${ADMIN_API_IDENTIFIER} (create, change, delete) also needs every admin scope it holds before and after; ` +
              `a new or rotated secret, a change of jwks or token_endpoint_auth_methods, enabling or deleting a client also needs every admin scope that client holds (and introspection:write when it may introspect); ` +
              `setting or changing introspect_apis needs introspection:write. config/apply and its dry run apply the same rules. Such a refusal is 403 insufficient-scope with required_scopes. ` +
              `Admin tokens live at most ${ADMIN_TOKEN_TTL_SECONDS} seconds (a server may lower that); a token revoked at /oauth/revoke is refused at once, and when its revocation cannot be checked the answer is 503 with Retry-After.`,
          },
          components: {
            securitySchemes: {
              adminToken: {
                type: 'oauth2',
                flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: Object.fromEntries(ADMIN_SCOPES.map((scope) => [scope.value, scope.description])) } },
              },
            },
          },
        },
      });

      useStrictJsonBodies(admin);
      useStorableInput(admin);
      useSeparateValidators(admin);
      const auth = createAdminAuthenticator({ issuer: runtime.issuer, registry: runtime.registry, revoked: runtime.state, now: runtime.now, maxTokenTtlSeconds: runtime.adminTokenMaxTtlSeconds });

      // Authentication comes first, before the body is parsed or validated: an unauthenticated
      // caller learns nothing and costs no parsing.
      admin.addHook('onRequest', async (request, reply) => {
        const scopes = request.routeOptions.config.adminScopes;
        if (!scopes) return;
        try {
          request.adminCaller = await auth.authenticate(request.headers.authorization);
          for (const scope of scopes) auth.requireScope(request.adminCaller, scope);
        } catch (error) {
          if (error instanceof AdminAuthFailure) return send(reply, error.response);
          throw error;
        }
      });

      admin.setErrorHandler((error: Error & { validation?: ErrorObject[]; validationContext?: string; statusCode?: number; code?: string }, request, reply) => {
        if (error.validation) return send(reply, validationProblem(error.validation, error.validationContext ?? 'body'));
        const status = error.statusCode;
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, problemResponse({ status: 413, code: 'body-too-large', title: 'Request body too large', detail: `The body must be at most ${ADMIN_BODY_LIMIT_BYTES} bytes` }));
        if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(reply, problemResponse({ status: 415, code: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Send application/json' }));
        if (status !== undefined && status >= 400 && status < 500 && error.code?.startsWith('FST_ERR_CTP')) {
          return send(reply, problemResponse({ status: 400, code: 'malformed-body', title: 'The body is not valid JSON', detail: 'The request body could not be parsed as JSON' }));
        }
        const response = toProblemResponse(error);
        // An operation that would confer more than the caller holds: the RFC 6750 challenge names what it lacks.
        if (isAdminError(error) && error.code === 'insufficient_scope') {
          const scopes = (error.extensions?.required_scopes as string[] | undefined) ?? [];
          response.headers['www-authenticate'] = `Bearer realm="${ADMIN_REALM}", error="insufficient_scope", scope="${scopes.join(' ')}"`;
        }
        if (response.status >= 500) request.log.error({ err: error, reqId: request.id, path: request.routeOptions.url }, 'admin request failed');
        return send(reply, response);
      });

      admin.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(admin.swagger()));

      for (const spec of adminRoutes()) {
        const scopes = [spec.scope].flat();
        const schema: FastifySchema & Record<string, unknown> = {
          summary: spec.summary,
          tags: [spec.url.split('/')[1]!],
          security: [{ adminToken: scopes }],
          ...(spec.body ? { body: spec.body } : {}),
          ...(spec.querystring ? { querystring: spec.querystring } : {}),
          ...(spec.params ? { params: { type: 'object', properties: Object.fromEntries(Object.entries(spec.params).map(([name, description]) => [name, { type: 'string', description }])), required: Object.keys(spec.params) } } : {}),
          response: {
            [spec.success[0]]: spec.success[1] ?? { type: 'null', description: 'No content' },
            '4XX': { ...schemas.problemSchema, description: 'Problem details; 401/403 also carry WWW-Authenticate (RFC 6750)' },
          },
        };
        admin.route({
          method: spec.method,
          url: spec.url,
          schema,
          bodyLimit: spec.bodyLimit ?? ADMIN_BODY_LIMIT_BYTES,
          config: { adminScopes: scopes },
          handler: async (request, reply) => {
            // The operation knows who calls and what it holds: it refuses to confer more (admin-authority.ts).
            const result = await spec.handler(runtime.admin.asCaller(request.adminCaller!), request);
            reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
            if (spec.success[1] === null) return reply.code(spec.success[0]).send();
            return reply.code(spec.success[0]).send(result);
          },
        });
      }
    },
    { prefix: ADMIN_PREFIX },
  );
}

type Body = Record<string, any>;
const body = (request: FastifyRequest) => (request.body ?? {}) as Body;
const params = (request: FastifyRequest) => request.params as Record<string, string>;
const query = (request: FastifyRequest) => request.query as Body;
const defined = <T extends Record<string, unknown>>(value: T) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
const pageView = <T, V>(page: { items: T[]; nextCursor: string | null }, view: (item: T) => V) => ({ items: page.items.map(view), next_cursor: page.nextCursor });
const pageOptions = (q: Body) => defined({ limit: q.limit as number | undefined, cursor: q.cursor as string | undefined });

/**
 * The route table: every admin operation with the scopes it needs. Exported so the least-privilege
 * test derives its attacks from the same table the server serves.
 */
export function adminRoutes(): RouteSpec[] {
  const apiWithSecret = { ...schemas.apiSchema, properties: { ...schemas.apiSchema.properties, shared_secret: { type: 'string', description: 'HS256 only: the shared secret, in this one answer' } } };
  const createdClient = { ...schemas.clientSchema, properties: { ...schemas.clientSchema.properties, client_secret: { type: 'string', description: 'Shown in this one answer only' }, secret: schemas.secretSchema } };
  const clientDetail = { ...schemas.clientSchema, properties: { ...schemas.clientSchema.properties, secrets: { type: 'array', items: schemas.secretSchema } }, required: [...schemas.clientSchema.required, 'secrets'] };
  const rotatedSecret = { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string', description: 'Shown in this one answer only' }, secret: schemas.secretSchema, previous_secrets_expire_at: { type: 'string', format: 'date-time' } }, required: ['client_id', 'client_secret', 'secret', 'previous_secrets_expire_at'] };
  const addedSecret = { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string', description: 'Shown in this one answer only' }, secret: schemas.secretDetailSchema }, required: ['client_id', 'client_secret', 'secret'] };
  const revokedKey = { type: 'object', properties: { revoked: { type: 'string' }, replacement: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'The key that signs now, when the revoked one was active' } }, required: ['revoked', 'replacement'] };
  const rotatedKey = { type: 'object', properties: { key: schemas.keySchema, previous: { type: 'array', items: schemas.keySchema }, shared_secret: { type: 'string' } }, required: ['key', 'previous'] };
  const identifier = { identifier: 'API identifier, percent-encoded (e.g. https%3A%2F%2Forders.example)' };
  const clientId = { client_id: 'Client id' };
  const apiResult = (result: { api: Parameters<typeof apiView>[0]; sharedSecret?: string }) => ({ ...apiView(result.api), ...(result.sharedSecret ? { shared_secret: result.sharedSecret } : {}) });

  return [
    // ---- APIs
    { method: 'GET', url: '/apis', scope: 'apis:read', summary: 'List APIs', querystring: schemas.listQuery, success: [200, schemas.pageOf(schemas.apiSchema)], handler: async (admin, r) => pageView(await admin.listApis(pageOptions(query(r))), apiView) },
    {
      method: 'POST', url: '/apis', scope: 'apis:write', summary: 'Create an API (an audience) with its scopes', body: schemas.createApiBody, success: [201, apiWithSecret],
      handler: async (admin, r) => {
        const b = body(r);
        return apiResult(await admin.createApi(defined({ identifier: b.identifier, name: b.name, scopes: b.scopes, signingAlg: b.signing_alg, tokenTtlSeconds: b.token_ttl_seconds }) as never));
      },
    },
    { method: 'GET', url: '/apis/:identifier', scope: 'apis:read', summary: 'Show an API', params: identifier, success: [200, schemas.apiSchema], handler: async (admin, r) => apiView(await admin.getApi(params(r).identifier!)) },
    {
      method: 'PATCH', url: '/apis/:identifier', scope: 'apis:write', summary: 'Change an API', params: identifier, body: schemas.updateApiBody, success: [200, apiWithSecret],
      handler: async (admin, r) => {
        const b = body(r);
        return apiResult(await admin.updateApi(params(r).identifier!, defined({ name: b.name, scopes: b.scopes, signingAlg: b.signing_alg, tokenTtlSeconds: b.token_ttl_seconds })));
      },
    },
    { method: 'DELETE', url: '/apis/:identifier', scope: 'apis:write', summary: 'Delete an API and every grant on it', params: identifier, success: [204, null], handler: (admin, r) => admin.deleteApi(params(r).identifier!) },

    // ---- Clients and their secrets
    { method: 'GET', url: '/clients', scope: 'clients:read', summary: 'List clients', querystring: schemas.listQuery, success: [200, schemas.pageOf(schemas.clientSchema)], handler: async (admin, r) => pageView(await admin.listClients(pageOptions(query(r))), clientView) },
    {
      method: 'POST', url: '/clients', scope: 'clients:write', summary: 'Register a client; its secret is in this answer only', body: schemas.createClientBody, success: [201, createdClient],
      handler: async (admin, r) => {
        const b = body(r);
        const created = await admin.createClient(defined({ name: b.name, description: b.description, defaultApi: b.default_api, tokenEndpointAuthMethods: b.token_endpoint_auth_methods, jwks: b.jwks, introspectApis: b.introspect_apis }) as never);
        return { ...clientView(created.client), ...(created.clientSecret ? { client_secret: created.clientSecret, secret: secretView(created.secret!) } : {}) };
      },
    },
    {
      method: 'GET', url: '/clients/:client_id', scope: 'clients:read', summary: 'Show a client with its secrets (hints only)', params: clientId, success: [200, clientDetail],
      handler: async (admin, r) => {
        const { client, secrets } = await admin.getClient(params(r).client_id!);
        return { ...clientView(client), secrets: secrets.map(secretView) };
      },
    },
    {
      method: 'PATCH', url: '/clients/:client_id', scope: 'clients:write', summary: 'Change a client (enabled: false stops new tokens)', params: clientId, body: schemas.updateClientBody, success: [200, schemas.clientSchema],
      handler: async (admin, r) => {
        const b = body(r);
        return clientView(await admin.updateClient(params(r).client_id!, defined({ name: b.name, description: b.description, defaultApi: b.default_api, isEnabled: b.enabled, tokenEndpointAuthMethods: b.token_endpoint_auth_methods, jwks: b.jwks, introspectApis: b.introspect_apis })));
      },
    },
    { method: 'DELETE', url: '/clients/:client_id', scope: 'clients:write', summary: 'Delete a client with its secrets and grants', params: clientId, success: [204, null], handler: (admin, r) => admin.deleteClient(params(r).client_id!) },
    {
      method: 'GET', url: '/clients/:client_id/secrets', scope: 'clients:read', summary: 'List a client’s secrets (hints only) with expiry and last use', params: clientId, success: [200, { type: 'object', properties: { items: { type: 'array', items: schemas.secretDetailSchema } }, required: ['items'] }],
      handler: async (admin, r) => ({ items: (await admin.listClientSecrets(params(r).client_id!)).map(secretDetailsView) }),
    },
    {
      method: 'POST', url: '/clients/:client_id/secrets', scope: 'clients:write', summary: 'Add a secret (a client may hold several); it is in this answer only', params: clientId, body: schemas.addSecretBody, success: [201, addedSecret],
      handler: async (admin, r) => {
        const added = await admin.addClientSecret(params(r).client_id!, defined({ expiresInSeconds: body(r).expires_in_seconds as number | undefined }));
        return { client_id: added.clientId, client_secret: added.clientSecret, secret: secretDetailsView(added.secret) };
      },
    },
    {
      method: 'DELETE', url: '/clients/:client_id/secrets/:secret_id', scope: 'clients:write', summary: 'Revoke one secret: it stops working at once', params: { ...clientId, secret_id: 'Secret id' }, success: [204, null],
      handler: (admin, r) => admin.revokeClientSecret(params(r).client_id!, params(r).secret_id!),
    },
    {
      method: 'POST', url: '/clients/:client_id/secrets/rotate', scope: 'clients:write', summary: 'Issue a new secret; current ones stop working after the grace period', params: clientId, body: schemas.rotateSecretBody, success: [201, rotatedSecret],
      handler: async (admin, r) => {
        const rotated = await admin.rotateClientSecret(params(r).client_id!, defined({ graceSeconds: body(r).grace_seconds as number | undefined }));
        return { client_id: rotated.clientId, client_secret: rotated.clientSecret, secret: secretView(rotated.secret), previous_secrets_expire_at: new Date(rotated.previousSecretsExpireAt).toISOString() };
      },
    },

    // ---- Grants
    {
      method: 'GET', url: '/grants', scope: 'grants:read', summary: 'List client grants, by client and/or API', querystring: schemas.grantsQuery, success: [200, schemas.pageOf(schemas.grantSchema)],
      handler: async (admin, r) => {
        const q = query(r);
        return pageView(await admin.listGrants({ ...pageOptions(q), ...defined({ clientId: q.client_id as string | undefined, apiIdentifier: q.api as string | undefined }) }), grantView);
      },
    },
    {
      method: 'POST', url: '/grants', scope: 'grants:write', summary: 'Allow a client scopes of an API', body: schemas.createGrantBody, success: [201, schemas.grantSchema],
      handler: async (admin, r) => {
        const b = body(r);
        return grantView(await admin.createGrant(defined({ clientId: b.client_id, apiIdentifier: b.api, scopes: b.scopes, tokenTtlSeconds: b.token_ttl_seconds }) as never));
      },
    },
    { method: 'GET', url: '/grants/:id', scope: 'grants:read', summary: 'Show a grant', params: { id: 'Grant id' }, success: [200, schemas.grantSchema], handler: async (admin, r) => grantView(await admin.getGrant(params(r).id!)) },
    {
      method: 'PATCH', url: '/grants/:id', scope: 'grants:write', summary: 'Change a grant’s scopes or token lifetime', params: { id: 'Grant id' }, body: schemas.updateGrantBody, success: [200, schemas.grantSchema],
      handler: async (admin, r) => {
        const b = body(r);
        return grantView(await admin.updateGrant(params(r).id!, defined({ scopes: b.scopes, tokenTtlSeconds: b.token_ttl_seconds })));
      },
    },
    { method: 'DELETE', url: '/grants/:id', scope: 'grants:write', summary: 'Delete a grant', params: { id: 'Grant id' }, success: [204, null], handler: (admin, r) => admin.deleteGrant(params(r).id!) },

    // ---- Signing keys
    { method: 'GET', url: '/keys', scope: 'keys:read', summary: 'List signing keys (never private parts)', success: [200, { type: 'object', properties: { items: { type: 'array', items: schemas.keySchema } }, required: ['items'] }], handler: async (admin) => ({ items: (await admin.listKeys()).map(keyView) }) },
    { method: 'GET', url: '/keys/:kid', scope: 'keys:read', summary: 'Show a signing key', params: { kid: 'Key id' }, success: [200, schemas.keySchema], handler: async (admin, r) => keyView(await admin.getKey(params(r).kid!)) },
    {
      method: 'POST', url: '/keys/rotate', scope: 'keys:write', summary: 'Rotate: a new key signs from now on; the previous one stays published', body: schemas.rotateKeyBody, success: [201, rotatedKey],
      handler: async (admin, r) => {
        const b = body(r);
        const rotated = await admin.rotateSigningKey(b.alg ?? 'RS256', b.api);
        return { key: keyView(rotated.key), previous: rotated.previous.map(keyView), ...(rotated.sharedSecret ? { shared_secret: rotated.sharedSecret } : {}) };
      },
    },
    {
      method: 'POST', url: '/keys/:kid/retire', scope: 'keys:write', summary: 'Remove a no-longer-signing key from the JWKS once tokens it signed expired (force: at once)', params: { kid: 'Key id' }, querystring: schemas.retireKeyQuery, success: [200, schemas.keySchema],
      handler: async (admin, r) => {
        await admin.retireSigningKey(params(r).kid!, defined({ force: query(r).force as boolean | undefined }));
        return keyView(await admin.getKey(params(r).kid!));
      },
    },
    {
      method: 'POST', url: '/keys/:kid/revoke', scope: 'keys:write', summary: 'Emergency: remove a key from the JWKS at once (an active key is replaced first)', params: { kid: 'Key id' }, success: [200, revokedKey],
      handler: async (admin, r) => {
        const result = await admin.revokeSigningKey(params(r).kid!);
        return { revoked: result.revoked, replacement: result.replacement ?? null };
      },
    },

    // ---- Configuration as code
    {
      method: 'GET', url: '/config', scope: ['apis:read', 'clients:read', 'grants:read'], summary: 'Export APIs, clients (never secrets) and grants as one configuration document',
      querystring: schemas.exportQuery, success: [200, schemas.configDocument],
      handler: (admin, r) => admin.exportConfig(query(r).include_admin ? { includeAdmin: true } : {}),
    },
    {
      method: 'POST', url: '/config/apply', scope: ['apis:write', 'clients:write', 'grants:write'], summary: 'Make the server match a configuration document in one transaction (plan only with dry_run; deletions only with prune)',
      querystring: schemas.applyQuery, body: schemas.configDocument, success: [200, schemas.applyResult], bodyLimit: APPLY_BODY_LIMIT_BYTES,
      handler: async (admin, r) => {
        const q = query(r);
        const result = await admin.applyConfig(r.body, { dryRun: q.dry_run === true, prune: q.prune === true, allowAdminDeletion: q.allow_admin_deletion === true });
        return { plan: result.plan, applied: result.applied, created_secrets: result.createdSecrets };
      },
    },

    // ---- Audit log
    {
      method: 'GET', url: '/audit-events', scope: 'audit:read', summary: 'Query the audit log, newest first', querystring: schemas.auditQuery, success: [200, schemas.pageOf(schemas.auditEventSchema)],
      handler: async (admin, r) => {
        const q = query(r);
        const page = await admin.listAuditEvents({
          ...pageOptions(q),
          ...defined({ type: q.type as string | undefined, actor: q.actor as string | undefined, since: parseTime(q.since, 'since'), until: parseTime(q.until, 'until') }),
        });
        return { items: page.items.map((event) => ({ ...event, at: new Date(event.at).toISOString() })), next_cursor: page.nextCursor };
      },
    },
  ];
}


/** Only JSON bodies, parsed with Fastify's prototype-poisoning protection. */
function useStrictJsonBodies(admin: FastifyInstance) {
  admin.removeAllContentTypeParsers();
  admin.addContentTypeParser('application/json', { parseAs: 'string' }, admin.getDefaultJsonParser('error', 'error'));
}

/**
 * Bodies are validated strictly (no coercion, unknown fields rejected, not silently dropped);
 * query strings and path parameters are text by nature, so numbers there are coerced.
 */
function useSeparateValidators(admin: FastifyInstance) {
  const strict = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
  const lenient = new Ajv({ allErrors: false, coerceTypes: true, removeAdditional: false, useDefaults: false, strict: false });
  admin.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema));
}

/**
 * Ajv's error as problem details. Field names and paths come from the caller's input (an unknown
 * key, the keys on the way to a value), so they go out through the same bounded, withholding echo
 * as the OAuth endpoints' (found by the attack probe: a 4 MB unknown key came back three times);
 * the messages are Ajv's own, about the schema, never the value.
 */
function validationProblem(errors: ErrorObject[], context: string): EndpointResponse {
  const fieldErrors = errors.map((error) => {
    const path = error.instancePath.replace(/^\//, '').split('/').filter(Boolean).map((segment) => echo(segment.replaceAll('~1', '/').replaceAll('~0', '~'))).join('.');
    const member = error.keyword === 'additionalProperties' ? (error.params as { additionalProperty: string }).additionalProperty : error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : undefined;
    const field = member !== undefined ? `${path ? `${path}.` : ''}${echo(member)}` : path || context;
    const message = error.keyword === 'additionalProperties' ? 'is not a known field' : error.keyword === 'required' ? 'is required' : (error.message ?? 'is not valid');
    return { field, message };
  });
  return problemResponse({ status: 400, code: 'validation-failed', title: 'The request is not valid', detail: fieldErrors.map((e) => `${e.field} ${e.message}`).join('; '), errors: fieldErrors });
}
