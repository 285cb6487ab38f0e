import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OpenTelemetry tracing of every process of ours: one SDK set-up (startTracing, called by
 * common/run-process.ts for every entry point), the one tracer our code makes spans with, and how
 * a trace context travels in a carrier (HTTP headers, NATS headers, the outbox row).
 *
 * Spans go over OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_ENDPOINT, or in Zipkin's format to
 * OTEL_EXPORTER_ZIPKIN_ENDPOINT (`npm run dev`'s viewer); with neither tracing is off: no provider
 * is registered, the tracer makes no-op spans and nothing is sent (tests, CI).
 * Span attributes carry ids, types and statuses only: never an email, a card token or a body.
 */
export interface TracingSettings {
  /** OTLP/HTTP base URL (e.g. http://127.0.0.1:4318); spans go to `<endpoint>/v1/traces`. */
  endpoint?: string;
  /** Zipkin's span API (e.g. http://127.0.0.1:9411/api/v2/spans); used when `endpoint` is unset. */
  zipkinEndpoint?: string;
  /** `service.name` of this process's spans. */
  serviceName: string;
}

export interface Tracing {
  enabled: boolean;
  /** Where finished spans go; the worker hands it to the workflow span sink too. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/** Sets up tracing for this process once; later calls return the first set-up. */
export function startTracing(settings: TracingSettings): Tracing {
  if (installed) return installed;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName });
  const exporter = settings.endpoint ? new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/+$/, '')}/v1/traces` })
    : settings.zipkinEndpoint ? new ZipkinExporter({ url: settings.zipkinEndpoint })
      : undefined;
  if (!exporter) {
    installed = { enabled: false, spanProcessor: new NoopSpanProcessor(), resource, shutdown: async () => undefined };
    return installed;
  }
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // AsyncLocalStorage context manager and the W3C trace-context and baggage propagators.
  provider.register();
  installed = { enabled: true, spanProcessor, resource, shutdown: () => provider.shutdown() };
  return installed;
}

/** The set-up of this process, if startTracing ran (the worker needs its span processor). */
export function currentTracing(): Tracing | undefined {
  return installed;
}

/** The tracer of our own spans. */
export function tracer(): Tracer {
  return trace.getTracer('order-orchestrator');
}

/** A W3C trace context (`traceparent`, `tracestate`) as headers or a stored carrier. */
export type TraceCarrier = Record<string, string>;

/** The trace context of `ctx` (default: the active one) as a carrier; empty when tracing is off. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a carrier names (HTTP headers, NATS headers, a stored carrier), as a parent for new spans. */
export function extractTraceContext(carrier: Record<string, string | string[] | undefined> | null | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

export interface InSpanOptions extends SpanOptions {
  /** The parent; default the active context. */
  parent?: Context;
}

/**
 * Runs `fn` in a new active span: ended when `fn` settles, status ERROR with the error's name
 * (not its message: it may quote a peer's answer) when it throws.
 */
export async function inSpan<T>(name: string, options: InSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const { parent = context.active(), ...spanOptions } = options;
  const span = tracer().startSpan(name, spanOptions, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? 'Error' });
    throw err;
  } finally {
    span.end();
  }
}

export { SpanKind };
