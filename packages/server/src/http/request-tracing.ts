import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Probes and scrapes come every few seconds and say nothing about a request: no span. */
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One server span per request, a child of the caller's W3C `traceparent` when it sent one. The
 * handler runs in the span's context (entered in the last hook before it, `preHandler`, whose
 * `done` calls the handler), so the spans the decorated ports open below it are its children.
 * Added only when tracing is on: without it no hook exists.
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const requests = new WeakMap<FastifyRequest, { span: Span; context: Context }>();
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && !UNTRACED_ROUTES.has(route)) {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.scheme': request.protocol } },
        parent,
      );
      requests.set(request, { span, context: trace.setSpan(parent, span) });
    }
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const traced = requests.get(request);
    if (traced) context.with(traced.context, done);
    else done();
  });
  const end = (request: FastifyRequest, reply: FastifyReply | undefined) => {
    const traced = requests.get(request);
    if (!traced) return;
    requests.delete(request);
    if (reply) {
      traced.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      traced.span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
    }
    traced.span.end();
  };
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}
