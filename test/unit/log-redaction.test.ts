import { Writable } from 'node:stream';
import { REDACTED } from '../../common/log-redaction';
import { createLogger } from '../../common/logger';
import { temporalSdkLogger } from '../../workers/temporal-sdk-logger';

/**
 * Every process's logger (common/logger.ts, made by common/run-process.ts) writes no personal
 * data or secret, wherever in a log line's fields it sits: a real pino logger, its real output.
 */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8'))); done(); } });
  return { logger: createLogger('test-process', stream), lines };
}

describe('log redaction', () => {
  it('redacts emails, tokens and credentials at the top level and nested up to four levels', () => {
    const { logger, lines } = capture();
    logger.info({
      customerEmail: 'jane@shop.example',
      input: { customerEmail: 'jane@shop.example', paymentToken: 'tok_visa', payment: { token: 'tok_visa' } },
      order: { customer: { contact: { email: 'jane@shop.example' } } },
      a: { b: { c: { d: { cardToken: 'tok_deep' } } } },
      req: { headers: { authorization: 'Bearer sk_live_123', 'payment-signature': 't=1,v1=abc', cookie: 'sid=1' } },
      orderId: 'o-1',
    }, 'placing an order');
    const [line] = lines;
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/jane@shop\.example|tok_visa|tok_deep|sk_live_123|v1=abc|sid=1/);
    expect(line).toMatchObject({
      name: 'test-process', msg: 'placing an order', orderId: 'o-1',
      customerEmail: REDACTED,
      input: { customerEmail: REDACTED, paymentToken: REDACTED, payment: { token: REDACTED } },
      order: { customer: { contact: { email: REDACTED } } },
      a: { b: { c: { d: { cardToken: REDACTED } } } },
      req: { headers: { authorization: REDACTED, 'payment-signature': REDACTED, cookie: REDACTED } },
    });
  });

  it('redacts inside arrays and in child loggers\' bindings, and keeps every other field', () => {
    const { logger, lines } = capture();
    const child = logger.child({ workflow: { input: { customerEmail: 'bound@shop.example' } } });
    child.warn({ lines: [{ sku: 'MUG-001', token: 'tok_a' }, { sku: 'LAMP-01', token: 'tok_b' }], status: 'PENDING' }, 'lines');
    const [line] = lines;
    expect(JSON.stringify(line)).not.toMatch(/bound@shop\.example|tok_a|tok_b/);
    expect(line).toMatchObject({ status: 'PENDING', lines: [{ sku: 'MUG-001', token: REDACTED }, { sku: 'LAMP-01', token: REDACTED }] });
  });

  it('the Temporal SDK\'s log lines in the worker go through the same logger and redaction', () => {
    const { logger, lines } = capture();
    const sdk = temporalSdkLogger(logger);
    sdk.warn('Activity failed', { activityType: 'authorizePayment', input: { paymentToken: 'tok_sdk', customerEmail: 'sdk@shop.example' } });
    sdk.debug('below the level: not written', { customerEmail: 'sdk@shop.example' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'Activity failed', temporal: true, activityType: 'authorizePayment', input: { paymentToken: REDACTED, customerEmail: REDACTED } });
  });

  it('redacts objects interpolated into the message (%o, %j, %O), with or without fields first', () => {
    const { logger, lines } = capture();
    logger.info('order %o', { orderId: 'o-1', customerEmail: 'fmt@shop.example' });
    logger.warn({ orderId: 'o-2' }, 'payment %j then %O', { paymentToken: 'tok_fmt' }, [{ token: 'tok_arr' }]);
    logger.info('plain %s and %d', 'text', 3);
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/fmt@shop\.example|tok_fmt|tok_arr/);
    expect(lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^order .*o-1.*\[Redacted\]/), expect.stringMatching(/^payment .*\[Redacted\].* then .*\[Redacted\]/), 'plain text and 3',
    ]);
    expect(lines[1]).toMatchObject({ orderId: 'o-2' });
  });

  it('redacts inside an error\'s cause and an AggregateError\'s errors, which pino writes out', () => {
    const { logger, lines } = capture();
    const inner = Object.assign(new Error('inner'), { token: 'tok_aggregate' });
    const cause = Object.assign(new Error('cause'), { customerEmail: 'cause@shop.example' });
    logger.error({ err: new AggregateError([inner], 'several', { cause }) }, 'failed');
    const text = JSON.stringify(lines[0]);
    expect(text).toContain('inner'); // the inner error is there, its token is not
    expect(text).not.toMatch(/tok_aggregate|cause@shop\.example/);
    expect(inner.token).toBe('tok_aggregate');
  });

  it('leaves the caller\'s objects unchanged, redacts an error\'s own fields, and stops below four levels', () => {
    const { logger, lines } = capture();
    const input = { order: { payment: { token: 'tok_mine' } } };
    const err = Object.assign(new Error('declined'), { customerEmail: 'err@shop.example' });
    logger.error({ input, err, a: { b: { c: { d: { e: { token: 'five-levels-down' } } } } } }, 'failed');
    expect(input.order.payment.token).toBe('tok_mine');
    expect(err.customerEmail).toBe('err@shop.example');
    const [line] = lines;
    expect(JSON.stringify(line)).not.toMatch(/tok_mine|tok_cause|err@shop\.example/);
    expect(line).toMatchObject({
      input: { order: { payment: { token: REDACTED } } },
      err: { type: 'Error', message: 'declined', customerEmail: REDACTED, stack: expect.stringContaining('declined') },
      a: { b: { c: { d: { e: { token: 'five-levels-down' } } } } },
    });
  });
});
