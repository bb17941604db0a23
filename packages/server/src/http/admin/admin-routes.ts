import { Ajv } from 'ajv';
import swagger from '@fastify/swagger';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { ServerRuntime } from '../../boot/create-runtime.js';
import type { Admin } from '../../admin/admin.js';
import { ADMIN_API_IDENTIFIER, ADMIN_SCOPES, ADMIN_TOKEN_TTL_SECONDS, type AdminScope } from '../../admin/built-in-admin-api.js';
import { parseTime } from '../../admin/parse-time.js';
import { toProblemResponse } from '../../errors/problem-details.js';
import { isAdminError } from '../../errors/admin-error.js';
import { sendEndpointResponse as send } from '../send-endpoint-response.js';
import { createAdminAuthenticator, AdminAuthFailure, ADMIN_REALM, type AdminCaller } from './admin-auth.js';
import { useStorableInput } from './storable-input.js';
import { ListQuery, pageOf } from '../../admin/resources/common.js';
import { apiResource, ApiWithSecret, createApi, updateApi } from '../../admin/resources/api.js';
import { clientResource, ClientDetail, clientSecrets, CreatedClient, createdClientExtras, createClient, updateClient } from '../../admin/resources/client.js';
import { addedSecret, addSecret, clientSecretList, rotatedSecret, rotateSecret } from '../../admin/resources/client-secret.js';
import { createGrant, grantResource, grantFilter, GrantsQuery, updateGrant } from '../../admin/resources/grant.js';
import {
  addTrustedIssuer,
  RemoveTrustedIssuerQuery,
  trustedIssuerResource,
  TrustedIssuersQuery,
  updateTrustedIssuer,
} from '../../admin/resources/trusted-issuer.js';
import { addFederatedCredential, federatedCredentialList, federatedCredentialResource } from '../../admin/resources/federated-credential.js';
import { addExchangePolicy, exchangePolicyFilter, exchangePolicyResource, ExchangePoliciesQuery } from '../../admin/resources/exchange-policy.js';
import { RetireKeyQuery, revokedKey, rotatedKey, rotateKey, signingKeyResource, signingKeyList } from '../../admin/resources/signing-key.js';
import { auditEventResource, auditFilter, AuditQuery } from '../../admin/resources/audit-event.js';
import { applyResult, ApplyQuery, ConfigDocumentAnswer, ConfigDocumentBody, ExportQuery } from '../../admin/resources/config-document.js';
import { Problem } from '../../admin/resources/problem.js';
import { usageFilter, UsageQuery, usageView } from '../../admin/resources/usage.js';
import { overviewView } from '../../admin/resources/overview.js';
import { inspectTokenRequest, tokenInspectionView } from '../../admin/resources/token-inspection.js';

export const ADMIN_PREFIX = '/admin/v1';
export const OPENAPI_PATH = `${ADMIN_PREFIX}/openapi.json`;
/** Admin bodies carry JWK Sets and, for `apply`, whole registries: larger than token requests. */
const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** The longest identifier a path names (an API identifier, an issuer: 512 characters), each character percent-encoded. */
export const ADMIN_PATH_PARAMETER_MAX_CHARS = 3 * 512;
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

/** What a handler gets: the request parts its schemas describe, already validated by them. */
export interface RouteInput<Body, Query> {
  body: Body;
  query: Query;
  params: Record<string, string>;
}

export interface RouteSpec<Body extends TSchema = TSchema, Query extends TSchema = TSchema, Success extends TSchema | null = TSchema | null> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Every scope listed is needed. */
  scope: AdminScope | AdminScope[];
  summary: string;
  bodyLimit?: number;
  body?: Body;
  querystring?: Query;
  params?: Record<string, string>;
  /** Success status and its schema; null for 204. */
  success: [number, Success];
  // A method, so a table of routes with different schemas is one type.
  handler(admin: Admin, input: RouteInput<Static<Body>, Static<Query>>): Promise<Success extends TSchema ? Static<Success> : void>;
}

/** A route whose handler is typed by its own schemas. */
const route = <Body extends TSchema = TSchema, Query extends TSchema = TSchema, Success extends TSchema | null = null>(spec: RouteSpec<Body, Query, Success>) =>
  spec;

/** Fastify validated each part against the route's schemas before the handler runs (RouteSpec types the handler by them). */
const inputOf = (request: FastifyRequest): RouteInput<unknown, unknown> => ({
  body: request.body ?? {},
  query: request.query,
  params: request.params as Record<string, string>,
});

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
            description:
              `Manage APIs, clients, grants, trusted issuers and federated credentials (workload identity federation), token-exchange policies, signing keys and the audit log. Authenticate with an access token of ${ADMIN_API_IDENTIFIER} (client credentials grant, audience=${ADMIN_API_IDENTIFIER}); each operation names the scope it needs. Errors are RFC 9457 problem details.\n\n` +
              `Nobody confers what they do not hold: a grant on ${ADMIN_API_IDENTIFIER} (create, change, delete) also needs every admin scope it holds before and after; ` +
              `a new or rotated secret, a federated credential added or removed, a change of jwks or token_endpoint_auth_methods, enabling, disabling or deleting a client also needs every admin scope that client holds (and introspection:write when it may introspect); ` +
              `changing a trusted issuer's keys or loosening its checks, or removing it with its credentials, needs what every client with a credential of it holds; ` +
              `setting or changing introspect_apis needs introspection:write; an exchange policy never targets ${ADMIN_API_IDENTIFIER}. config/apply and its dry run apply the same rules. Such a refusal is 403 insufficient-scope with required_scopes. ` +
              `Admin tokens live at most ${ADMIN_TOKEN_TTL_SECONDS} seconds (a server may lower that); a token revoked at /oauth/revoke is refused at once, and when its revocation cannot be checked the answer is 503 with Retry-After.`,
          },
          components: {
            securitySchemes: {
              adminToken: {
                type: 'oauth2',
                flows: {
                  clientCredentials: { tokenUrl: '/oauth/token', scopes: Object.fromEntries(ADMIN_SCOPES.map((scope) => [scope.value, scope.description])) },
                },
              },
            },
          },
        },
      });

      useStrictJsonBodies(admin);
      useStorableInput(admin);
      useSeparateValidators(admin);
      const auth = createAdminAuthenticator({
        issuer: runtime.issuer,
        registry: runtime.registry,
        revoked: runtime.state,
        now: runtime.now,
        maxTokenTtlSeconds: runtime.adminTokenMaxTtlSeconds,
      });

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

      // Framework refusals (schema, size, media type, JSON) and operation errors alike go through
      // the one problem mapping; only the RFC 6750 challenge is the admin API's own.
      admin.setErrorHandler((error, request, reply) => {
        const response = toProblemResponse(error, { bodyLimitBytes: ADMIN_BODY_LIMIT_BYTES });
        // An operation that would confer more than the caller holds: the RFC 6750 challenge names what it lacks.
        if (isAdminError(error) && error.code === 'insufficient_scope') {
          const scopes = (error.extensions?.required_scopes as string[] | undefined) ?? [];
          response.headers['www-authenticate'] = `Bearer realm="${ADMIN_REALM}", error="insufficient_scope", scope="${scopes.join(' ')}"`;
        }
        if (response.status >= 500) request.log.error({ err: error, reqId: request.id, path: request.routeOptions.url }, 'admin request failed');
        return send(reply, response);
      });

      // The same for everyone: may be kept if revalidated (every other admin answer is no-store).
      admin.get('/openapi.json', { schema: { hide: true }, config: { cache: 'no-cache' } }, async () => admin.swagger());

      for (const spec of adminRoutes()) {
        const scopes = [spec.scope].flat();
        const schema: FastifySchema & Record<string, unknown> = {
          summary: spec.summary,
          tags: [spec.url.split('/')[1]!],
          security: [{ adminToken: scopes }],
          ...(spec.body ? { body: spec.body } : {}),
          ...(spec.querystring ? { querystring: spec.querystring } : {}),
          ...(spec.params
            ? { params: Type.Object(Object.fromEntries(Object.entries(spec.params).map(([name, description]) => [name, Type.String({ description })]))) }
            : {}),
          response: {
            [spec.success[0]]: spec.success[1] ?? Type.Null({ description: 'No content' }),
            '4XX': { ...Problem, description: 'Problem details; 401/403 also carry WWW-Authenticate (RFC 6750)' },
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
            const result = await spec.handler(runtime.admin.asCaller(request.adminCaller!), inputOf(request));
            if (spec.success[1] === null) return reply.code(spec.success[0]).send();
            return reply.code(spec.success[0]).send(result);
          },
        });
      }
    },
    { prefix: ADMIN_PREFIX },
  );
}

const pageOptions = (q: { limit?: number; cursor?: string }) => ({
  ...(q.limit !== undefined ? { limit: q.limit } : {}),
  ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
});
const pageOfWire = <T, W>(page: { items: T[]; nextCursor: string | null }, toWire: (item: T) => W) => ({
  items: page.items.map(toWire),
  next_cursor: page.nextCursor,
});
const withSecret = (result: { api: Parameters<typeof apiResource.toWire>[0]; sharedSecret?: string }) => ({
  ...apiResource.toWire(result.api),
  ...(result.sharedSecret ? { shared_secret: result.sharedSecret } : {}),
});

/**
 * The route table: every admin operation with the scopes it needs, its schemas from the resource
 * definitions (admin/resources/), and the codecs between wire and records. Exported so the
 * least-privilege test derives its attacks from the same table the server serves.
 */
export function adminRoutes(): RouteSpec[] {
  const identifier = { identifier: 'API identifier, percent-encoded (e.g. https%3A%2F%2Forders.example)' };
  const clientId = { client_id: 'Client id' };
  const grantId = { id: 'Grant id' };
  const kid = { kid: 'Key id' };
  const issuer = { issuer: 'The issuer, percent-encoded (e.g. https%3A%2F%2Ftoken.actions.githubusercontent.com)' };

  return [
    // ---- APIs
    route({
      method: 'GET',
      url: '/apis',
      scope: 'apis:read',
      summary: 'List APIs',
      querystring: ListQuery,
      success: [200, pageOf(apiResource.schema)],
      handler: async (admin, { query }) => pageOfWire(await admin.listApis(pageOptions(query)), apiResource.toWire),
    }),
    route({
      method: 'POST',
      url: '/apis',
      scope: 'apis:write',
      summary: 'Create an API (an audience) with its scopes',
      body: createApi.schema,
      success: [201, ApiWithSecret],
      handler: async (admin, { body }) => withSecret(await admin.createApi(createApi.fromWire(body))),
    }),
    route({
      method: 'GET',
      url: '/apis/:identifier',
      scope: 'apis:read',
      summary: 'Show an API',
      params: identifier,
      success: [200, apiResource.schema],
      handler: async (admin, { params }) => apiResource.toWire(await admin.getApi(params.identifier!)),
    }),
    route({
      method: 'PATCH',
      url: '/apis/:identifier',
      scope: 'apis:write',
      summary: 'Change an API',
      params: identifier,
      body: updateApi.schema,
      success: [200, ApiWithSecret],
      handler: async (admin, { params, body }) => withSecret(await admin.updateApi(params.identifier!, updateApi.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/apis/:identifier',
      scope: 'apis:write',
      summary: 'Delete an API and every grant on it',
      params: identifier,
      success: [204, null],
      handler: (admin, { params }) => admin.deleteApi(params.identifier!),
    }),

    // ---- Clients and their secrets
    route({
      method: 'GET',
      url: '/clients',
      scope: 'clients:read',
      summary: 'List clients',
      querystring: ListQuery,
      success: [200, pageOf(clientResource.schema)],
      handler: async (admin, { query }) => pageOfWire(await admin.listClients(pageOptions(query)), clientResource.toWire),
    }),
    route({
      method: 'POST',
      url: '/clients',
      scope: 'clients:write',
      summary: 'Register a client; its secret is in this answer only',
      body: createClient.schema,
      success: [201, CreatedClient],
      handler: async (admin, { body }) => {
        const created = await admin.createClient(createClient.fromWire(body));
        return { ...clientResource.toWire(created.client), ...createdClientExtras.toWire(created) };
      },
    }),
    route({
      method: 'GET',
      url: '/clients/:client_id',
      scope: 'clients:read',
      summary: 'Show a client with its secrets (hints only)',
      params: clientId,
      success: [200, ClientDetail],
      handler: async (admin, { params }) => {
        const found = await admin.getClient(params.client_id!);
        return { ...clientResource.toWire(found.client), ...clientSecrets.toWire(found) };
      },
    }),
    route({
      method: 'PATCH',
      url: '/clients/:client_id',
      scope: 'clients:write',
      summary: 'Change a client (enabled: false stops new tokens)',
      params: clientId,
      body: updateClient.schema,
      success: [200, clientResource.schema],
      handler: async (admin, { params, body }) => clientResource.toWire(await admin.updateClient(params.client_id!, updateClient.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/clients/:client_id',
      scope: 'clients:write',
      summary: 'Delete a client with its secrets and grants',
      params: clientId,
      success: [204, null],
      handler: (admin, { params }) => admin.deleteClient(params.client_id!),
    }),
    route({
      method: 'GET',
      url: '/clients/:client_id/secrets',
      scope: 'clients:read',
      summary: 'List a client’s secrets (hints only) with expiry and last use',
      params: clientId,
      success: [200, clientSecretList.schema],
      handler: async (admin, { params }) => clientSecretList.toWire({ items: await admin.listClientSecrets(params.client_id!) }),
    }),
    route({
      method: 'POST',
      url: '/clients/:client_id/secrets',
      scope: 'clients:write',
      summary: 'Add a secret (a client may hold several); it is in this answer only',
      params: clientId,
      body: addSecret.schema,
      success: [201, addedSecret.schema],
      handler: async (admin, { params, body }) => addedSecret.toWire(await admin.addClientSecret(params.client_id!, addSecret.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/clients/:client_id/secrets/:secret_id',
      scope: 'clients:write',
      summary: 'Revoke one secret: it stops working at once',
      params: { ...clientId, secret_id: 'Secret id' },
      success: [204, null],
      handler: (admin, { params }) => admin.revokeClientSecret(params.client_id!, params.secret_id!),
    }),
    route({
      method: 'POST',
      url: '/clients/:client_id/secrets/rotate',
      scope: 'clients:write',
      summary: 'Issue a new secret; current ones stop working after the grace period',
      params: clientId,
      body: rotateSecret.schema,
      success: [201, rotatedSecret.schema],
      handler: async (admin, { params, body }) => rotatedSecret.toWire(await admin.rotateClientSecret(params.client_id!, rotateSecret.fromWire(body))),
    }),

    // ---- Federated credentials of a client (workload identity federation)
    route({
      method: 'GET',
      url: '/clients/:client_id/federated-credentials',
      scope: 'clients:read',
      summary: 'List a client’s federated credentials',
      params: clientId,
      success: [200, federatedCredentialList.schema],
      handler: async (admin, { params }) => federatedCredentialList.toWire({ items: await admin.listFederatedCredentials(params.client_id!) }),
    }),
    route({
      method: 'POST',
      url: '/clients/:client_id/federated-credentials',
      scope: 'clients:write',
      summary: 'Let tokens of a trusted issuer with this subject authenticate as the client, instead of a secret',
      params: clientId,
      body: addFederatedCredential.schema,
      success: [201, federatedCredentialResource.schema],
      handler: async (admin, { params, body }) =>
        federatedCredentialResource.toWire(await admin.addFederatedCredential(params.client_id!, addFederatedCredential.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/clients/:client_id/federated-credentials/:id',
      scope: 'clients:write',
      summary: 'Remove a federated credential: its tokens stop authenticating at once',
      params: { ...clientId, id: 'Federated credential id' },
      success: [204, null],
      handler: (admin, { params }) => admin.removeFederatedCredential(params.client_id!, params.id!),
    }),

    // ---- Trusted issuers (workload identity federation)
    route({
      method: 'GET',
      url: '/trusted-issuers',
      scope: 'issuers:read',
      summary: 'List trusted issuers',
      querystring: TrustedIssuersQuery,
      success: [200, pageOf(trustedIssuerResource.schema)],
      handler: async (admin, { query }) => pageOfWire(await admin.listTrustedIssuers(pageOptions(query)), trustedIssuerResource.toWire),
    }),
    route({
      method: 'POST',
      url: '/trusted-issuers',
      scope: 'issuers:write',
      summary: 'Trust a platform’s tokens (a Kubernetes cluster, a CI service, an OIDC provider, a SPIFFE trust domain)',
      body: addTrustedIssuer.schema,
      success: [201, trustedIssuerResource.schema],
      handler: async (admin, { body }) => trustedIssuerResource.toWire(await admin.addTrustedIssuer(addTrustedIssuer.fromWire(body))),
    }),
    route({
      method: 'GET',
      url: '/trusted-issuers/:issuer',
      scope: 'issuers:read',
      summary: 'Show a trusted issuer',
      params: issuer,
      success: [200, trustedIssuerResource.schema],
      handler: async (admin, { params }) => trustedIssuerResource.toWire(await admin.getTrustedIssuer(params.issuer!)),
    }),
    route({
      method: 'PATCH',
      url: '/trusted-issuers/:issuer',
      scope: 'issuers:write',
      summary: 'Change a trusted issuer’s keys or checks',
      params: issuer,
      body: updateTrustedIssuer.schema,
      success: [200, trustedIssuerResource.schema],
      handler: async (admin, { params, body }) =>
        trustedIssuerResource.toWire(await admin.updateTrustedIssuer(params.issuer!, updateTrustedIssuer.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/trusted-issuers/:issuer',
      scope: 'issuers:write',
      summary: 'Stop trusting an issuer (refused while federated credentials name it, unless force)',
      params: issuer,
      querystring: RemoveTrustedIssuerQuery,
      success: [204, null],
      handler: (admin, { params, query }) => admin.removeTrustedIssuer(params.issuer!, query.force === undefined ? {} : { force: query.force }),
    }),

    // ---- Grants
    route({
      method: 'GET',
      url: '/grants',
      scope: 'grants:read',
      summary: 'List client grants, by client and/or API',
      querystring: GrantsQuery,
      success: [200, pageOf(grantResource.schema)],
      handler: async (admin, { query }) => pageOfWire(await admin.listGrants({ ...pageOptions(query), ...grantFilter.fromWire(query) }), grantResource.toWire),
    }),
    route({
      method: 'POST',
      url: '/grants',
      scope: 'grants:write',
      summary: 'Allow a client scopes of an API',
      body: createGrant.schema,
      success: [201, grantResource.schema],
      handler: async (admin, { body }) => grantResource.toWire(await admin.createGrant(createGrant.fromWire(body))),
    }),
    route({
      method: 'GET',
      url: '/grants/:id',
      scope: 'grants:read',
      summary: 'Show a grant',
      params: grantId,
      success: [200, grantResource.schema],
      handler: async (admin, { params }) => grantResource.toWire(await admin.getGrant(params.id!)),
    }),
    route({
      method: 'PATCH',
      url: '/grants/:id',
      scope: 'grants:write',
      summary: 'Change a grant’s scopes or token lifetime',
      params: grantId,
      body: updateGrant.schema,
      success: [200, grantResource.schema],
      handler: async (admin, { params, body }) => grantResource.toWire(await admin.updateGrant(params.id!, updateGrant.fromWire(body))),
    }),
    route({
      method: 'DELETE',
      url: '/grants/:id',
      scope: 'grants:write',
      summary: 'Delete a grant',
      params: grantId,
      success: [204, null],
      handler: (admin, { params }) => admin.deleteGrant(params.id!),
    }),

    // ---- Token-exchange policies (RFC 8693)
    route({
      method: 'GET',
      url: '/exchange-policies',
      scope: 'exchange-policies:read',
      summary: 'List token-exchange policies, by exchanging client and/or API',
      querystring: ExchangePoliciesQuery,
      success: [200, pageOf(exchangePolicyResource.schema)],
      handler: async (admin, { query }) =>
        pageOfWire(await admin.listExchangePolicies({ ...pageOptions(query), ...exchangePolicyFilter.fromWire(query) }), exchangePolicyResource.toWire),
    }),
    route({
      method: 'POST',
      url: '/exchange-policies',
      scope: 'exchange-policies:write',
      summary: 'Let a client exchange the tokens of a client (or any, *) or a trusted issuer’s JWTs for tokens on an API (never the admin API)',
      body: addExchangePolicy.schema,
      success: [201, exchangePolicyResource.schema],
      handler: async (admin, { body }) => exchangePolicyResource.toWire(await admin.addExchangePolicy(addExchangePolicy.fromWire(body))),
    }),
    route({
      method: 'GET',
      url: '/exchange-policies/:id',
      scope: 'exchange-policies:read',
      summary: 'Show a token-exchange policy',
      params: { id: 'Exchange policy id' },
      success: [200, exchangePolicyResource.schema],
      handler: async (admin, { params }) => exchangePolicyResource.toWire(await admin.getExchangePolicy(params.id!)),
    }),
    route({
      method: 'DELETE',
      url: '/exchange-policies/:id',
      scope: 'exchange-policies:write',
      summary: 'Remove a token-exchange policy: the exchanges it allowed are refused at once',
      params: { id: 'Exchange policy id' },
      success: [204, null],
      handler: (admin, { params }) => admin.removeExchangePolicy(params.id!),
    }),

    // ---- Signing keys
    route({
      method: 'GET',
      url: '/keys',
      scope: 'keys:read',
      summary: 'List signing keys (never private parts)',
      success: [200, signingKeyList.schema],
      handler: async (admin) => signingKeyList.toWire({ items: await admin.listKeys() }),
    }),
    route({
      method: 'GET',
      url: '/keys/:kid',
      scope: 'keys:read',
      summary: 'Show a signing key',
      params: kid,
      success: [200, signingKeyResource.schema],
      handler: async (admin, { params }) => signingKeyResource.toWire(await admin.getKey(params.kid!)),
    }),
    route({
      method: 'POST',
      url: '/keys/rotate',
      scope: 'keys:write',
      summary: 'Rotate: a new key signs from now on; the previous one stays published',
      body: rotateKey.schema,
      success: [201, rotatedKey.schema],
      handler: async (admin, { body }) => {
        const request = rotateKey.fromWire(body);
        return rotatedKey.toWire(await admin.rotateSigningKey(request.alg ?? 'RS256', request.apiIdentifier));
      },
    }),
    route({
      method: 'POST',
      url: '/keys/:kid/retire',
      scope: 'keys:write',
      summary: 'Remove a no-longer-signing key from the JWKS once tokens it signed expired (force: at once)',
      params: kid,
      querystring: RetireKeyQuery,
      success: [200, signingKeyResource.schema],
      handler: async (admin, { params, query }) => {
        await admin.retireSigningKey(params.kid!, query.force === undefined ? {} : { force: query.force });
        return signingKeyResource.toWire(await admin.getKey(params.kid!));
      },
    }),
    route({
      method: 'POST',
      url: '/keys/:kid/revoke',
      scope: 'keys:write',
      summary: 'Emergency: remove a key from the JWKS at once (an active key is replaced first)',
      params: kid,
      success: [200, revokedKey.schema],
      handler: async (admin, { params }) => revokedKey.toWire(await admin.revokeSigningKey(params.kid!)),
    }),

    // ---- Configuration as code
    route({
      method: 'GET',
      url: '/config',
      scope: ['apis:read', 'clients:read', 'grants:read'],
      summary:
        'Export APIs, trusted issuers, clients (never secrets) with their federated credentials, grants and exchange policies as one configuration document (trusted issuers also need issuers:read, exchange policies exchange-policies:read)',
      querystring: ExportQuery,
      success: [200, ConfigDocumentAnswer],
      handler: (admin, { query }) => admin.exportConfig(query.include_admin ? { includeAdmin: true } : {}),
    }),
    route({
      method: 'POST',
      url: '/config/apply',
      scope: ['apis:write', 'clients:write', 'grants:write'],
      summary:
        'Make the server match a configuration document in one transaction (plan only with dry_run; deletions only with prune; trusted issuer changes also need issuers:write, exchange policy changes exchange-policies:write)',
      querystring: ApplyQuery,
      body: ConfigDocumentBody,
      success: [200, applyResult.schema],
      bodyLimit: APPLY_BODY_LIMIT_BYTES,
      handler: async (admin, { query, body }) =>
        applyResult.toWire(
          await admin.applyConfig(body, {
            dryRun: query.dry_run === true,
            prune: query.prune === true,
            allowAdminDeletion: query.allow_admin_deletion === true,
          }),
        ),
    }),

    // ---- Audit log
    route({
      method: 'GET',
      url: '/audit-events',
      scope: 'audit:read',
      summary: 'Query the audit log, newest first',
      querystring: AuditQuery,
      success: [200, pageOf(auditEventResource.schema)],
      handler: async (admin, { query }) => {
        const filter = auditFilter.fromWire(query);
        const since = parseTime(filter.since, 'since');
        const until = parseTime(filter.until, 'until');
        const page = await admin.listAuditEvents({
          ...pageOptions(query),
          ...(filter.type !== undefined ? { type: filter.type } : {}),
          ...(filter.actor !== undefined ? { actor: filter.actor } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
        });
        return pageOfWire(page, auditEventResource.toWire);
      },
    }),

    // ---- Usage
    route({
      method: 'GET',
      url: '/usage',
      scope: 'usage:read',
      summary:
        'Tokens issued per client and API, by hour or day (UTC), with totals and refetches (tokens fetched while an earlier one was far from expiry). Counted in the shared state in batches: about a second behind, and counts made while it was away are lost',
      querystring: UsageQuery,
      success: [200, usageView.schema],
      handler: async (admin, { query }) => usageView.toWire(await admin.readUsage(usageFilter.fromWire(query))),
    }),

    // ---- Overview (the web console's first page)
    route({
      method: 'GET',
      url: '/overview',
      scope: 'overview:read',
      summary:
        'This instance’s token endpoint over the last 60 minutes (tokens issued and failed per minute, failures by reason, the busiest and the most failing clients, counted in this process: behind a load balancer each instance answers for its own share), the signing keys’ ages and the next scheduled rotation (keys and next_rotation only with keys:read too; left out otherwise), and whether the database and the shared state answer',
      success: [200, overviewView.schema],
      handler: async (admin) => overviewView.toWire(await admin.readOverview()),
    }),

    // ---- Token inspector
    route({
      method: 'POST',
      url: '/tokens/inspect',
      scope: 'tokens:inspect',
      summary:
        'What this server knows of a token: issued here (its keys, its opaque store), signature, revoked, expired, active as introspection would answer, and why not; header and claims decoded. Any string answers 200 (format unknown when it is no token); the token is never logged or stored',
      body: inspectTokenRequest.schema,
      success: [200, tokenInspectionView.schema],
      handler: async (admin, { body }) => tokenInspectionView.toWire(await admin.inspectToken(inspectTokenRequest.fromWire(body).token)),
    }),
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
