import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { ServerRuntime } from '../runtime/create-runtime.js';
import { parseFormParams, type FormParams } from '../endpoints/form-params.js';
import { errorResponse, NO_STORE, type EndpointResponse } from '../endpoints/endpoint-response.js';
import { invalidRequest } from '../errors/oauth-error.js';
import { INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH } from '../endpoints/discovery.js';
import { fastifyTrustProxy, type TrustProxy } from '../config/trust-proxy.js';
import { JWKS_MAX_AGE_SECONDS } from '../keys/jwks-max-age.js';
import type { TokenRequest } from '../endpoints/token-endpoint.js';
import { registerAdminApi } from './admin/admin-routes.js';
import { problemResponse } from '../errors/problem-details.js';

export interface AppOptions {
  logger: Logger;
  /** Which X-Forwarded-For hops to believe; default none (the socket address). */
  trustProxy?: TrustProxy;
  serverFactory?: FastifyServerFactory;
  https?: { cert: Buffer; key: Buffer };
  /** Serve Prometheus metrics at /metrics (keep it off the public network: it names clients). */
  exposeMetrics?: boolean;
  /** Where /metrics text comes from; default this process's registry (cluster workers ask the primary). */
  collectMetrics?: () => Promise<string>;
  /** Serve the admin API under /admin/v1 on this app (default true; false when it has its own listener or is off). */
  adminApi?: boolean;
}

/** Token requests are small; anything larger is refused before it is parsed. */
export const BODY_LIMIT_BYTES = 16 * 1024;
export { JWKS_MAX_AGE_SECONDS };
const FORM = 'application/x-www-form-urlencoded';
const NOT_FORM = Symbol('not-form');
const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** The Fastify app over a runtime: routing, body parsing and status mapping, nothing else. */
export function buildApp(runtime: ServerRuntime, options: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // One structured line per token (token.issued) is the useful log; per-request noise is not.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: fastifyTrustProxy(options.trustProxy ?? false),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // Fastify would build a child logger per request only to bind reqId; the one line per token
    // names its reqId itself, so requests share the app's logger (saves a child per request).
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;

  // Only form bodies are parsed; any other content type reaches the handler as a marker, so the
  // endpoint can answer with a proper OAuth error instead of Fastify's 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, parseFormParams(body as string)));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, NOT_FORM));

  const oauthEndpoint = (name: string, handler: (request: TokenRequest) => Promise<EndpointResponse>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const started = performance.now();
      const params = request.body as FormParams | typeof NOT_FORM | undefined;
      const response =
        params === NOT_FORM || params === undefined
          ? errorResponse(invalidRequest(`The request body must be ${FORM}.`), { ...NO_STORE })
          : await handler({ authorization: request.headers.authorization, params, remoteAddress: request.ip, requestId: request.id });
      runtime.metrics.observeRequest(name, response.status, (performance.now() - started) / 1000);
      return send(reply, response);
    };

  app.post(TOKEN_PATH, oauthEndpoint('token', runtime.token));
  app.post(INTROSPECTION_PATH, oauthEndpoint('introspection', runtime.introspect));
  app.post(REVOCATION_PATH, oauthEndpoint('revocation', runtime.revoke));
  for (const path of [TOKEN_PATH, INTROSPECTION_PATH, REVOCATION_PATH]) {
    app.route({
      method: [...OTHER_METHODS],
      url: path,
      handler: (_request, reply) =>
        send(reply, errorResponse(invalidRequest(`${path} accepts only POST.`, { status: 405, headers: { allow: 'POST' } }), { ...NO_STORE })),
    });
  }

  app.get(JWKS_PATH, async (_request, reply) => {
    return reply
      .header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
      .type('application/jwk-set+json')
      .send(await runtime.jwksJson());
  });
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, async (_request, reply) => {
      return reply.header('cache-control', 'public, max-age=300').type('application/json').send(await runtime.discoveryJson());
    });
  }

  if (options.adminApi ?? true) registerAdminApi(app, runtime);

  if (options.exposeMetrics) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(runtime.metrics.registry.contentType).send(await (options.collectMetrics ?? (() => runtime.metrics.registry.metrics()))()),
    );
  }

  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await runtime.storage.ping();
      await runtime.registry.keyRing();
      return reply.header('cache-control', 'no-store').send({ status: 'ready', storage: runtime.storage.kind });
    } catch (error) {
      reply.log.warn({ err: error, reqId: request.id }, 'readiness check failed');
      return reply.code(503).header('cache-control', 'no-store').send({ status: 'unavailable', storage: runtime.storage.kind });
    }
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send({ type: 'about:blank', title: 'Not Found', status: 404, detail: `No route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  // Errors raised by Fastify itself (body too large, broken body) in RFC 6749 shape; anything
  // unexpected becomes a bare server_error with the cause only in the log.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error, reqId: request.id, path: request.url.split('?')[0] }, 'unhandled error');
      return send(reply, errorResponse(error, { ...NO_STORE }));
    }
    const description = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `The request body must be at most ${BODY_LIMIT_BYTES} bytes.` : 'The request could not be parsed.';
    return send(reply, errorResponse(invalidRequest(description, { status: status === 413 ? 413 : 400 }), { ...NO_STORE }));
  });

  return app;
}

/**
 * The admin API alone, for its own listener (`--admin-host`/`--admin-port`): the token endpoint's
 * listener can then face the network while this one stays on a private address.
 */
export function buildAdminApp(runtime: ServerRuntime, options: Pick<AppOptions, 'logger' | 'serverFactory' | 'https'>): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  registerAdminApi(app, runtime);
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.setNotFoundHandler((_request, reply) => send(reply, problemResponse({ status: 404, code: 'not-found', title: 'Not found', detail: 'No such route' })));
  return app;
}

function send(reply: FastifyReply, response: EndpointResponse) {
  return reply.code(response.status).headers(response.headers).type('application/json').send(response.body);
}
