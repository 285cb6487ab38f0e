import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { contextOfMessage, eventMessageHeaders } from '../../common/event-headers';
import { extractTraceContext, injectTraceContext, inSpan, SpanKind } from '../../common/tracing';

/**
 * How a trace context travels (pure logic): into headers and a stored carrier and back out as
 * the parent of the next span. The spans go to an in-memory exporter (no collector).
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  provider.register({ propagator: new W3CTraceContextPropagator() }); // and an AsyncLocalStorage context manager
});
afterAll(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

describe('trace context propagation (pure logic, in-memory spans)', () => {
  it('injects the active span as traceparent and continues it from the carrier', async () => {
    let carrier: Record<string, string> = {};
    await inSpan('writer', {}, async (span) => {
      carrier = injectTraceContext();
      expect(carrier.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    });
    // E.g. stored with the outbox row as JSON, read back by the relay.
    const stored = JSON.parse(JSON.stringify(carrier)) as Record<string, string>;
    await inSpan('reader', { parent: extractTraceContext(stored), kind: SpanKind.PRODUCER }, async () => undefined);
    const [writer, reader] = exporter.getFinishedSpans();
    expect(reader!.spanContext().traceId).toBe(writer!.spanContext().traceId);
    expect(reader!.parentSpanId).toBe(writer!.spanContext().spanId);
  });

  it('carries the correlation id and the trace context in NATS message headers', async () => {
    const headers = await inSpan('publish', { kind: SpanKind.PRODUCER }, async () => eventMessageHeaders('req-9'));
    expect(headers.get('X-Correlation-Id')).toBe('req-9');
    const { parent, correlationId } = contextOfMessage(headers);
    expect(correlationId).toBe('req-9');
    await inSpan('consume', { parent, kind: SpanKind.CONSUMER }, async () => undefined);
    const [publish, consume] = exporter.getFinishedSpans();
    expect(consume!.spanContext().traceId).toBe(publish!.spanContext().traceId);
    expect(consume!.parentSpanId).toBe(publish!.spanContext().spanId);
  });

  it('starts a new trace for a message without headers or with an invalid correlation id', async () => {
    const bad = natsHeaders();
    bad.set('X-Correlation-Id', 'not valid!');
    bad.set('traceparent', 'garbage');
    for (const headers of [undefined, bad]) {
      const { parent, correlationId } = contextOfMessage(headers);
      expect(correlationId).toBeUndefined();
      expect(trace.getSpanContext(parent)).toBeUndefined();
    }
  });

  it('marks a span whose work throws as an error, naming the error type only', async () => {
    await expect(inSpan('failing', {}, async () => { throw new TypeError('card tok_visa refused'); })).rejects.toThrow(TypeError);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toEqual({ code: 2, message: 'TypeError' });
  });
});
