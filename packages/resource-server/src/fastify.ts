// Fastify adapter: a thin layer over the core. The only file that knows Fastify's types.
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerHookHandler,
  RouteGenericInterface,
} from 'fastify';
import { checkThen, realmOf, verifierFrom, type Verifier, type VerifierOptions } from './core/verifier.js';
import { isAuthError, toHttpResponse } from './core/errors.js';
import { createRouteRequirement, type RouteRequirement, type ScopeRequirement } from './core/requirements.js';
import type { Principal } from './core/principal.js';
import { isDpopScheme } from './core/bearer-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by requireAuth: who called, with scopes and claims (null before). */
    auth: Principal | null;
  }
}

/**
 * Decorates `request.auth` (so every request has the same shape, which keeps Fastify fast).
 * Register it once: `await app.register(resourceServer)`; then use requireAuth/requireScopes as
 * route preHandlers. Declared with skip-override so the decoration is visible app-wide.
 */
export const resourceServer: FastifyPluginCallback = Object.assign(
  (app: Parameters<FastifyPluginCallback>[0], _options: unknown, done: (error?: Error) => void) => {
    if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
    done();
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@m2m-auth/resource-server' },
);

/**
 * preHandler that verifies the bearer token and sets `request.auth`, or answers per RFC 6750.
 * Callback-style on purpose: a token seen before, or one checked with a known key on the event
 * loop, is answered synchronously with no promise at all (see docs/benchmarks.md).
 */
export function requireAuth(options: VerifierOptions | Verifier): preHandlerHookHandler {
  const verifier = verifierFrom(options, 'requireAuth');
  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const authorization = request.headers.authorization;
    const sources = {
      authorization,
      bodyToken: verifier.acceptsBodyToken ? (request.body as Record<string, unknown> | undefined)?.access_token : undefined,
      queryToken: verifier.acceptsQueryToken ? (request.query as Record<string, unknown> | undefined)?.access_token : undefined,
      // The DPoP scheme's proof is for this method and URL: as the client addressed it, with the
      // scheme and host Fastify reports (X-Forwarded-Proto/-Host only under its trustProxy).
      ...(isDpopScheme(authorization)
        ? { dpop: request.headers.dpop, method: request.method, url: `${request.protocol}://${request.host}${request.url}` }
        : {}),
      // Mutual TLS: the core reads the peer certificate (or a trusted proxy's Client-Cert) only for a certificate-bound token.
      socket: request.raw.socket,
      clientCertHeader: request.headers['client-cert'],
    };
    checkThen(
      verifier,
      sources,
      (principal) => {
        request.auth = principal;
        done();
      },
      (error) => refuse(error, verifier.realm, reply, done),
    );
  };
}

/** A request that passed requireAuth: `auth` is set. `RouteGeneric` is Fastify's (`{ Params, Querystring, Body, Reply, … }`). */
export type AuthenticatedRequest<RouteGeneric extends RouteGenericInterface = RouteGenericInterface> = FastifyRequest<RouteGeneric> & { auth: Principal };

/**
 * Types a route handler that runs after requireAuth, so `request.auth` is a `Principal`, not
 * `Principal | null`: `app.get('/orders', { preHandler: auth }, authenticated(async (request) => …))`.
 * A preHandler cannot change the type the handler sees; this says it once, and checks it: without
 * requireAuth before it, the handler is not called and the request fails with an error (500).
 */
export function authenticated<RouteGeneric extends RouteGenericInterface = RouteGenericInterface, Result = unknown>(
  handler: (this: FastifyInstance, request: AuthenticatedRequest<RouteGeneric>, reply: FastifyReply<RouteGeneric>) => Result,
): (this: FastifyInstance, request: FastifyRequest<RouteGeneric>, reply: FastifyReply<RouteGeneric>) => Result {
  return function handleAuthenticated(this: FastifyInstance, request: FastifyRequest<RouteGeneric>, reply: FastifyReply<RouteGeneric>) {
    if (!isAuthenticated(request)) throw new Error('an authenticated() handler must run after requireAuth');
    return handler.call(this, request, reply);
  };
}

function isAuthenticated<R extends { auth: Principal | null }>(request: R): request is R & { auth: Principal } {
  return request.auth !== null && request.auth !== undefined;
}

/** Options of requireScopes/requireAuthorities. `realm` defaults to the realm of the verifier that accepted the token. */
export type RequirementOptions = ScopeRequirement & { realm?: string };

/**
 * preHandler after requireAuth: 403 insufficient_scope unless `request.auth` has the scopes —
 * `'read:orders write:orders'` or `['read:orders', 'write:orders']`. An empty or malformed list
 * throws here, at set-up.
 */
export function requireScopes(scopes: string | readonly string[], options: RequirementOptions = {}): preHandlerHookHandler {
  return guard(createRouteRequirement('scopes', scopes, options, 'requireScopes'), 'requireScopes');
}

/** Like requireScopes, over `request.auth.authorities`: scopes plus roles or permissions (Entra `roles`, Auth0 `permissions`). */
export function requireAuthorities(authorities: string | readonly string[], options: RequirementOptions = {}): preHandlerHookHandler {
  return guard(createRouteRequirement('authorities', authorities, options, 'requireAuthorities'), 'requireAuthorities');
}

function guard(requirement: RouteRequirement, name: string): preHandlerHookHandler {
  return function checkRequirement(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (!request.auth) return done(new Error(`${name} must run after requireAuth`));
    try {
      requirement.check(request.auth);
    } catch (error) {
      return refuse(error, requirement.realm ?? realmOf(request.auth) ?? 'api', reply, done);
    }
    done();
  };
}

/** An AuthError becomes its RFC 6750 answer; anything else goes to Fastify's error handling. */
function refuse(error: unknown, realm: string, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (!isAuthError(error)) return done(error as Error);
  const answer = toHttpResponse(error, realm);
  reply.code(answer.status).headers(answer.headers).send(answer.body);
}

export type { Principal, VerifierOptions, Verifier };
