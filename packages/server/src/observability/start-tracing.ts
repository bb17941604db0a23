import { createRequire } from 'node:module';
import type { Tracer } from '@opentelemetry/api';

/**
 * The OpenTelemetry SDK and its OTLP/HTTP exporter, loaded only when tracing is configured: a
 * server without it never imports them (the code paths speak only `@opentelemetry/api`, through
 * the decorators in tracing.ts). Spans are batched and sent as OTLP/HTTP JSON to
 * `<endpoint>/v1/traces`, the collector's standard receiver on port 4318.
 *
 * The SDK's standard environment applies on top: `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` (resource), `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`
 * (sampling; default: always, or as the caller's traceparent says), `OTEL_EXPORTER_OTLP_HEADERS`
 * and `OTEL_EXPORTER_OTLP_TIMEOUT` (export), `OTEL_BSP_*` (batching).
 */
export interface TracingOptions {
  /** Base URL of the OTLP/HTTP receiver (`/v1/traces` is appended); undefined: the exporter's default, http://localhost:4318. */
  otlpEndpoint: string | undefined;
}

export interface RunningTracing {
  readonly tracer: Tracer;
  /** Sends the spans still batched and stops the exporter. */
  shutdown(): Promise<void>;
}

const SERVICE_NAME = 'm2m-auth';
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
let isRegistered = false;

export async function startTracing(options: TracingOptions): Promise<RunningTracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes, detectResources, envDetector }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new OTLPTraceExporter(options.otlpEndpoint ? { url: tracesUrl(options.otlpEndpoint) } : {});
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME, 'service.version': version }).merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // The context manager (AsyncLocalStorage) and the W3C trace-context propagator are global to
  // the process: set once, by the first server that traces (tests start several in one process).
  if (!isRegistered) {
    provider.register();
    isRegistered = true;
  }
  return { tracer: provider.getTracer(SERVICE_NAME, version), shutdown: () => provider.shutdown() };
}

/** The OTLP convention: a base endpoint gets the signal's path; the traces-specific variable would be used as is. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
