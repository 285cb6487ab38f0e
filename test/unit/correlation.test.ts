import { Writable } from 'node:stream';
import { correlationIdFromHeaders, isCorrelationId, parseTraceparent } from '../../common/correlation';
import { bindOrderId, correlationHeaders, correlationLogFields, withCorrelation } from '../../common/correlation-context';
import { correlationIdOfInput } from '../../common/correlation-workflow-interceptors';
import { orderIdOfActivityInput } from '../../common/correlation-activity-interceptor';
import { createLogger } from '../../common/logger';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const VALID = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('traceparent parsing (pure logic)', () => {
  it('reads a valid W3C traceparent', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, spanId: '00f067aa0ba902b7', sampled: true });
    expect(parseTraceparent(`00-${TRACE_ID}-00f067aa0ba902b7-00`)?.sampled).toBe(false);
    // A later version may append fields.
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-extra`)?.traceId).toBe(TRACE_ID);
  });

  it.each([
    ['version ff', `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
    ['short trace id', `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01`],
    ['version 00 with more fields', `${VALID}-extra`],
    ['not a string', 42],
    ['empty', ''],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('correlation id of a request (pure logic)', () => {
  it('takes a valid X-Correlation-Id first, then the trace id of a valid traceparent, else none', () => {
    expect(correlationIdFromHeaders({ 'x-correlation-id': 'shop-req:42', traceparent: VALID })).toBe('shop-req:42');
    expect(correlationIdFromHeaders({ 'x-correlation-id': 'has space', traceparent: VALID })).toBe(TRACE_ID);
    expect(correlationIdFromHeaders({ traceparent: VALID })).toBe(TRACE_ID);
    expect(correlationIdFromHeaders({ 'x-correlation-id': 'x'.repeat(129) })).toBeUndefined();
    expect(correlationIdFromHeaders({ traceparent: 'garbage' })).toBeUndefined();
    expect(correlationIdFromHeaders({})).toBeUndefined();
  });

  it('accepts 1-128 of letters, digits and ._:- only', () => {
    expect(isCorrelationId('a.b_c:d-1')).toBe(true);
    expect(isCorrelationId('')).toBe(false);
    expect(isCorrelationId('a/b')).toBe(false);
    expect(isCorrelationId('jane@shop.example')).toBe(false);
  });

  it('finds the correlation id of a workflow input and the order of an activity input', () => {
    expect(correlationIdOfInput([{ orderId: 'o-1', correlationId: 'req-1' }])).toBe('req-1');
    expect(correlationIdOfInput([{ orderId: 'o-1' }])).toBeUndefined();
    expect(correlationIdOfInput([])).toBeUndefined();
    expect(orderIdOfActivityInput([{ orderId: 'o-1', eventId: 'e' }])).toBe('o-1');
    expect(orderIdOfActivityInput([{ order: { orderId: 'o-2' }, eventId: 'e' }])).toBe('o-2');
    expect(orderIdOfActivityInput([{ step: { orderId: 'o-3', lines: [] }, record: { orderId: 'o-3' } }])).toBe('o-3');
    expect(orderIdOfActivityInput([])).toBeUndefined();
  });
});

describe('correlation context (pure logic, in-memory log destination)', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { raw.push(String(chunk)); lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    return { logger: createLogger('test', destination), lines, raw };
  }

  it('is carried through async calls, gives peer calls their header and every log line its fields', async () => {
    const { logger, lines } = capture();
    expect(correlationHeaders()).toEqual({});
    await withCorrelation({ correlationId: 'req-7' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      bindOrderId('order-1');
      expect(correlationHeaders()).toEqual({ 'X-Correlation-Id': 'req-7' });
      logger.info({ step: 'x' }, 'inside');
      await withCorrelation({ orderId: 'order-2' }, async () => {
        expect(correlationLogFields()).toEqual({ correlationId: 'req-7', orderId: 'order-2' });
      });
    });
    logger.info('outside');
    expect(lines.map(({ msg, correlationId, orderId }) => ({ msg, correlationId, orderId }))).toEqual([
      { msg: 'inside', correlationId: 'req-7', orderId: 'order-1' },
      { msg: 'outside', correlationId: undefined, orderId: undefined },
    ]);
  });

  it('leaves a field to a child logger that binds it, so no line has a key twice', () => {
    const { logger, raw } = capture();
    withCorrelation({ correlationId: 'from-context', orderId: 'o-1' }, () => logger.child({ correlationId: 'bound' }).info('child line'));
    expect(raw[0]!.match(/"correlationId"/g)).toHaveLength(1);
    expect(JSON.parse(raw[0]!)).toMatchObject({ correlationId: 'bound', orderId: 'o-1' });
  });
});
