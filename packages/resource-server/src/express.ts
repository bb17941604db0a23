// Express adapter: a thin layer over the core. The only file that knows Express's types.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { checkThen, realmOf, verifierFrom, type Verifier, type VerifierOptions } from './core/verifier.js';
import { isAuthError, toHttpResponse, type AuthError } from './core/errors.js';
import { createRouteRequirement, type RouteRequirement, type ScopeRequirement } from './core/requirements.js';
import type { Principal } from './core/principal.js';
import { isDpopScheme } from './core/bearer-token.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by requireAuth: who called, with scopes and claims. */
      auth?: Principal;
    }
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the generics and their defaults are Express's own, `any` bodies included */

/** A request that passed requireAuth: `auth` is set. The generics (params, bodies, query, locals) are `Request`'s. */
export type AuthenticatedRequest<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
> = Request<P, ResBody, ReqBody, ReqQuery, Locals> & { auth: Principal };

/**
 * Types a route handler that runs after requireAuth, so `req.auth` is a `Principal`, not
 * `Principal | undefined`: `app.get('/orders', requireAuth(verifier), authenticated((req, res) => …))`.
 * Express cannot carry what a middleware did into the types of the handlers after it; this says it
 * once, and checks it: without requireAuth before it, the request fails with an error (a wiring
 * mistake, 500) rather than the handler reading an absent principal.
 */
export function authenticated<
  P = Request['params'],
  ResBody = any,
  ReqBody = any,
  ReqQuery = Request['query'],
  Locals extends Record<string, any> = Record<string, any>,
>(
  handler: (req: AuthenticatedRequest<P, ResBody, ReqBody, ReqQuery, Locals>, res: Response<ResBody, Locals>, next: NextFunction) => unknown,
): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals> {
  return (req, res, next) => {
    if (!isAuthenticated(req)) return next(new Error('an authenticated() handler must run after requireAuth'));
    return handler(req, res, next);
  };
}

/* eslint-enable @typescript-eslint/no-explicit-any */

function isAuthenticated<R extends { auth?: Principal }>(req: R): req is R & { auth: Principal } {
  return req.auth !== undefined;
}

/** Options of requireScopes/requireAuthorities. `realm` defaults to the realm of the verifier that accepted the token. */
export type RequirementOptions = ScopeRequirement & { realm?: string };

/**
 * Middleware that verifies the request's bearer token and sets `req.auth`, or answers 400/401/503
 * per RFC 6750. Pass options (one verifier per middleware, with its caches) or a shared verifier.
 */
export function requireAuth(options: VerifierOptions | Verifier): RequestHandler {
  const verifier = verifierFrom(options, 'requireAuth');
  return (req, res, next) => {
    // Express 5 parses req.query on every access: touch it only when query tokens are accepted.
    const authorization = req.headers.authorization;
    const sources = {
      authorization,
      bodyToken: verifier.acceptsBodyToken ? bodyToken(req) : undefined,
      queryToken: verifier.acceptsQueryToken ? req.query?.access_token : undefined,
      // The DPoP scheme's proof is for this method and URL: as the client addressed it, with the
      // scheme and host Express reports (X-Forwarded-Proto/-Host only under its 'trust proxy').
      ...(isDpopScheme(authorization) ? { dpop: req.headers.dpop, method: req.method, url: `${req.protocol}://${req.host}${req.originalUrl}` } : {}),
      // Mutual TLS: the core reads the peer certificate (or a trusted proxy's Client-Cert) only for a certificate-bound token.
      socket: req.socket,
      clientCertHeader: req.headers['client-cert'],
    };
    checkThen(
      verifier,
      sources,
      (principal) => {
        req.auth = principal;
        next();
      },
      (error) => fail(error, verifier.realm, res, next),
    );
  };
}

/**
 * Middleware after requireAuth: 403 insufficient_scope unless `req.auth` has the scopes —
 * `'read:orders write:orders'` or `['read:orders', 'write:orders']`. An empty or malformed list
 * throws here, at set-up.
 */
export function requireScopes(scopes: string | readonly string[], options: RequirementOptions = {}): RequestHandler {
  return guard(createRouteRequirement('scopes', scopes, options, 'requireScopes'), 'requireScopes');
}

/** Like requireScopes, over `req.auth.authorities`: scopes plus roles or permissions (Entra `roles`, Auth0 `permissions`). */
export function requireAuthorities(authorities: string | readonly string[], options: RequirementOptions = {}): RequestHandler {
  return guard(createRouteRequirement('authorities', authorities, options, 'requireAuthorities'), 'requireAuthorities');
}

function guard(requirement: RouteRequirement, name: string): RequestHandler {
  return (req, res, next) => {
    if (!req.auth) return next(new Error(`${name} must run after requireAuth`));
    try {
      requirement.check(req.auth);
    } catch (error) {
      return fail(error, requirement.realm ?? realmOf(req.auth) ?? 'api', res, next);
    }
    next();
  };
}

function fail(error: unknown, realm: string, res: Response, next: NextFunction): void {
  if (!isAuthError(error)) return next(error);
  send(res, error, realm);
}

function send(res: Response, error: AuthError, realm: string): void {
  const answer = toHttpResponse(error, realm);
  res.status(answer.status).set(answer.headers).json(answer.body);
}

function bodyToken(req: Request): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  return req.is('application/x-www-form-urlencoded') && body && typeof body === 'object' ? body.access_token : undefined;
}
