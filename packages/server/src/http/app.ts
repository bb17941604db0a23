import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type onRequestHookHandler,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
} from 'fastify';
import type { Logger } from 'pino';
import type { ServerRuntime } from '../boot/create-runtime.js';
import { parseFormParams, type FormParams } from '../protocol/form-params.js';
import { type EndpointResponse } from '../protocol/endpoint-response.js';
import { errorResponse } from '../errors/error-response.js';
import { invalidRequest } from '../errors/oauth-error.js';
import { httpErrorAnswer, pathOf } from './error-answers.js';
import { answerClientError } from './client-error.js';
import { INTROSPECTION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH } from '../endpoints/discovery.js';
import { fastifyTrustProxy, trustsPeer, type TrustProxy } from '../config/trust-proxy.js';
import { createCertificateReader } from './client-certificate.js';
import { JWKS_MAX_AGE_SECONDS } from '../keys/jwks-max-age.js';
import type { PresentedCertificate, TokenRequest } from '../protocol/token-request.js';
import { ADMIN_PATH_PARAMETER_MAX_CHARS, registerAdminApi } from './admin/admin-routes.js';
import { sendEndpointResponse as send } from './send-endpoint-response.js';
import { cacheHeaders } from './cache-policy.js';
import { traceRequests } from './request-tracing.js';
import { registerConsole } from './console/console-routes.js';
import type { ConsoleAssets } from './console/console-assets.js';

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
  /** The web console's files, served under /console beside the admin API (absent: /console says it was not built). */
  console?: ConsoleAssets | undefined;
  /** True from the start of a graceful shutdown: /readyz then answers 503 while the listener still serves. */
  isShuttingDown?: () => boolean;
}

/** Token requests are small; anything larger is refused before it is parsed. */
export const BODY_LIMIT_BYTES = 16 * 1024;
export { JWKS_MAX_AGE_SECONDS };
const FORM = 'application/x-www-form-urlencoded';
/** Discovery changes when an API is added; five minutes keeps clients current enough. */
const DISCOVERY_MAX_AGE_SECONDS = 300;
const NOT_FORM = Symbol('not-form');

/** The Fastify app over a runtime: routing, body parsing and status mapping, nothing else. */
export function buildApp(runtime: ServerRuntime, options: AppOptions): FastifyInstance {
  const app = createFastify({ ...options, bodyLimit: BODY_LIMIT_BYTES });
  if (runtime.tracer) traceRequests(app, runtime.tracer);

  useFormBodies(app);
  // Without mutual TLS no certificate is read, and a Client-Cert header is ignored as before.
  const presentedCertificate = runtime.isMutualTlsOn ? createCertificateReader(trustsPeer(options.trustProxy ?? false)) : noCertificate;
  app.post(TOKEN_PATH, oauthEndpoint(runtime, 'token', runtime.token, presentedCertificate));
  app.post(INTROSPECTION_PATH, oauthEndpoint(runtime, 'introspection', runtime.introspect, presentedCertificate));
  app.post(REVOCATION_PATH, oauthEndpoint(runtime, 'revocation', runtime.revoke, presentedCertificate));

  app.get(JWKS_PATH, { config: { cache: { publicMaxAgeSeconds: JWKS_MAX_AGE_SECONDS } } }, async (_request, reply) => {
    return reply.type('application/jwk-set+json').send(await runtime.jwksJson());
  });
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, { config: { cache: { publicMaxAgeSeconds: DISCOVERY_MAX_AGE_SECONDS } } }, async (_request, reply) => {
      return reply.type('application/json').send(await runtime.discoveryJson());
    });
  }

  if (options.adminApi ?? true) {
    registerAdminApi(app, runtime);
    registerConsole(app, options.console);
  }

  if (options.exposeMetrics) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(runtime.metrics.registry.contentType).send(await (options.collectMetrics ?? (() => runtime.metrics.registry.metrics()))()),
    );
  }

  app.get('/healthz', async (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    // Load balancers take the instance out while it still serves what they send meanwhile.
    if (options.isShuttingDown?.()) return reply.code(503).send({ status: 'shutting_down', storage: runtime.storage.kind });
    try {
      await runtime.storage.ping();
      await runtime.registry.keyRing();
      return reply.send({ status: 'ready', storage: runtime.storage.kind });
    } catch (error) {
      reply.log.warn({ err: error, reqId: request.id }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', storage: runtime.storage.kind });
    }
  });

  return app;
}

/**
 * Only form bodies are parsed; any other content type reaches the handler as a marker, so the
 * endpoint can answer with a proper OAuth error instead of Fastify's 415.
 */
function useFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, parseFormParams(body as string)));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, NOT_FORM));
}

/** An OAuth endpoint core as a route: the form handed over as a TokenRequest, its answer written as is. */
const noCertificate = (): undefined => undefined;

/**
 * One OAuth endpoint on Fastify: the form body, the request's facts (a certificate the TLS
 * handshake or a trusted proxy presented among them) and the metric. The endpoint answers every
 * error itself; a Client-Cert header refused before it is called is answered the same way.
 */
function oauthEndpoint(
  runtime: ServerRuntime,
  name: string,
  handler: (request: TokenRequest) => Promise<EndpointResponse>,
  presentedCertificate: (request: FastifyRequest['raw']) => PresentedCertificate | undefined = noCertificate,
) {
  const call = async (request: FastifyRequest, params: FormParams): Promise<EndpointResponse> => {
    let clientCertificate: PresentedCertificate | undefined;
    try {
      clientCertificate = presentedCertificate(request.raw);
    } catch (error) {
      return errorResponse(error);
    }
    return handler({
      authorization: request.headers.authorization,
      params,
      remoteAddress: request.ip,
      requestId: request.id,
      accept: request.headers.accept,
      dpopProof: oneHeader(request.headers.dpop),
      clientCertificate,
    });
  };
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const params = request.body as FormParams | typeof NOT_FORM | undefined;
    const response =
      params === NOT_FORM || params === undefined ? errorResponse(invalidRequest(`The request body must be ${FORM}.`)) : await call(request, params);
    runtime.metrics.observeRequest(name, response.status, (performance.now() - started) / 1000);
    return send(reply, response);
  };
}

/** Node joins repeated headers of most names with a comma; one it keeps apart is joined the same way, so either is refused as two. */
function oneHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A client's mistake as a 4xx in its path's format; anything else a bare 500, the cause only logged. */
function sendError(reply: FastifyReply, url: string, error: Error & { statusCode?: number; code?: string }) {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) reply.log.error({ err: error, reqId: reply.request.id, path: pathOf(url) }, 'unhandled error');
  return send(reply, httpErrorAnswer(pathOf(url), status === 413 || status === 500 ? status : 400, describeFrameworkError(error)));
}

function describeFrameworkError(error: { code?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `The request body must be at most ${BODY_LIMIT_BYTES} bytes.`;
    case 'FST_ERR_BAD_URL':
      return 'The request target is not a valid URL.';
    default:
      return 'The request could not be parsed.';
  }
}

/**
 * The admin API alone, for its own listener (`--admin-host`/`--admin-port`): the token endpoint's
 * listener can then face the network while this one stays on a private address. The web console
 * is served here too, and signs in on its own origin: a token endpoint that issues admin tokens
 * only, and revocation of them.
 */
export function buildAdminApp(
  runtime: ServerRuntime,
  options: Pick<AppOptions, 'logger' | 'serverFactory' | 'https' | 'trustProxy' | 'console'>,
): FastifyInstance {
  const app = createFastify(options);
  if (runtime.tracer) traceRequests(app, runtime.tracer);
  app.register(async (oauth) => {
    useFormBodies(oauth);
    oauth.post(TOKEN_PATH, { bodyLimit: BODY_LIMIT_BYTES }, oauthEndpoint(runtime, 'admin_token', runtime.adminToken));
    oauth.post(REVOCATION_PATH, { bodyLimit: BODY_LIMIT_BYTES }, oauthEndpoint(runtime, 'admin_revocation', runtime.adminRevoke));
  });
  registerAdminApi(app, runtime);
  registerConsole(app, options.console);
  app.get('/healthz', async (_request, reply) => reply.send({ status: 'ok' }));
  return app;
}

/** What both apps share: logging, request ids, and every answer no route decides. */
function createFastify(options: Pick<AppOptions, 'logger' | 'trustProxy' | 'serverFactory' | 'https'> & { bodyLimit?: number }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // One structured line per token (token.issued) is the useful log; per-request noise is not.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    trustProxy: fastifyTrustProxy(options.trustProxy ?? false),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // Fastify would build a child logger per request only to bind reqId; the one line per token
    // names its reqId itself, so requests share the app's logger (saves a child per request).
    childLoggerFactory: (logger) => logger,
    return503OnClosing: true,
    // Admin paths carry identifiers percent-encoded (an API identifier, a trusted issuer's URL):
    // the router's default bound of 100 characters would turn a long one into a 400.
    routerOptions: { maxParamLength: ADMIN_PATH_PARAMETER_MAX_CHARS },
    // Errors before a request reaches a route (a URL that cannot be decoded) and before Fastify
    // sees one at all (unparsable HTTP, oversize headers, timeouts) get the same answers as the rest.
    // No hook runs for the former (Fastify answers from a context without them), so the nosniff
    // the onRequest hook gives every other answer is set here.
    frameworkErrors: (error, request, reply) => sendError(reply.header('x-content-type-options', 'nosniff').headers(cacheHeaders()), request.url, error),
    clientErrorHandler: answerClientError,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  useHttpAnswers(app);
  return app;
}

/**
 * Answers no route decides: nosniff on every answer; no route for a known path and method is a
 * 405 naming the methods the path serves, a method this server never serves (TRACE, PROPFIND, …)
 * a 405 too, anything else a 404 that does not repeat the path back; Fastify's own errors (body
 * too large, broken body) in the path's format. A plugin's own error handler (the admin API's)
 * takes precedence inside it.
 */
function useHttpAnswers(app: FastifyInstance): void {
  // Every answer, errors included: nosniff and no-store; a route of another cache class (http/
  // cache-policy.ts) replaces the latter in a hook of its own, made once when the route is added,
  // so no request pays to look its class up.
  const everyAnswer = { 'x-content-type-options': 'nosniff', ...cacheHeaders('no-store') };
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(everyAnswer);
    done();
  });
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const policy = route.config?.cache;
    if (policy !== undefined && policy !== 'no-store') {
      const headers = cacheHeaders(policy);
      const applyPolicy: onRequestHookHandler = (_request, reply, done) => {
        reply.removeHeader('pragma').headers(headers);
        done();
      };
      route.onRequest = [applyPolicy, ...[route.onRequest ?? []].flat()];
    }
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByPath.set(route.url, methods);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url) ?? '';
    const served = methodsByPath.get(path);
    const allMethods = new Set([...methodsByPath.values()].flatMap((methods) => [...methods]));
    if (served || !allMethods.has(request.method)) {
      const allow = [...(served ?? allMethods)].sort().join(', ');
      return send(reply, httpErrorAnswer(path, 405, served ? `This resource accepts ${allow}.` : 'This method is not supported.', { allow }));
    }
    return send(reply, httpErrorAnswer(path, 404, 'No such resource.'));
  });
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => sendError(reply, request.url, error));
}
