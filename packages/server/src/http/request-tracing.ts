import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, onRequestAbortHookHandler, onRequestHookHandler, onResponseHookHandler, preHandlerHookHandler } from 'fastify';

/** Probes and scrapes come every few seconds and say nothing about a request: no span. */
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One server span per request, a child of the caller's W3C `traceparent` when it sent one (and
 * sampled as it says, by default: OTEL_TRACES_SAMPLER is the SDK's parent-based one). The
 * handler runs in the span's context, entered by the route's last `preHandler` hook, whose `done`
 * calls the handler: the spans the decorated ports open below it are its children. The hooks are
 * given to each route as it is added (its path known then, so no request reads it), and only when
 * tracing is on: without it no hook exists.
 */
export function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const requests = new WeakMap<FastifyRequest, { span: Span; context: Context }>();
  const enterSpan: preHandlerHookHandler = (request, _reply, done) => {
    const traced = requests.get(request);
    if (traced) context.with(traced.context, done);
    else done();
  };
  const end = (request: FastifyRequest, statusCode: number | undefined) => {
    const traced = requests.get(request);
    if (!traced) return;
    requests.delete(request);
    if (statusCode === undefined) traced.span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
    else {
      traced.span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    traced.span.end();
  };
  const endOnResponse: onResponseHookHandler = (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  };
  const endOnAbort: onRequestAbortHookHandler = (request, done) => {
    end(request, undefined);
    done();
  };
  app.addHook('onRoute', (route) => {
    if (UNTRACED_ROUTES.has(route.url)) return;
    const startSpan: onRequestHookHandler = (request, _reply, done) => {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span = tracer.startSpan(
        `${request.method} ${route.url}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route.url, 'url.scheme': request.protocol } },
        parent,
      );
      // A trace not sampled is not entered: nothing below opens a span, and with no context to
      // enter, the context manager's async hooks are never switched on for it.
      if (span.isRecording()) requests.set(request, { span, context: trace.setSpan(parent, span) });
      done();
    };
    route.onRequest = [startSpan, ...[route.onRequest ?? []].flat()];
    route.preHandler = [...[route.preHandler ?? []].flat(), enterSpan];
    route.onResponse = [...[route.onResponse ?? []].flat(), endOnResponse];
    route.onRequestAbort = [...[route.onRequestAbort ?? []].flat(), endOnAbort];
  });
}
