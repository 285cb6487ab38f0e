import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { JetStreamManager, JsMsg, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Pool, QueryConfig } from 'pg';
import { SMTPServer } from 'smtp-server';
import type { DomainEvent } from '../../common/events';
import { createLogger } from '../../common/logger';
import { REDACTED_EMAIL, redactEmailAddresses } from '../../common/personal-data';
import { DLQ_HEADERS, getDeadLetter } from '../../workers/dead-letters';
import { createMailer, sendEmailForEvent, SmtpSendError } from '../../workers/email-consumer';
import { parseMessage, processMessage } from '../../workers/event-consumer';

/**
 * A customer's address must not leave the email consumer through an SMTP error: nodemailer's
 * message quotes the server's reply ("550 5.1.1 <jane@shop.example>: Recipient address
 * rejected"), and a handler's error goes on to the log, the dead letter, `ops dlq` and the
 * operator inspection. Real nodemailer against a real SMTP server (smtp-server, in this process,
 * loopback) that refuses the recipient; the order store and the JetStream message are in-memory
 * fakes (FakePool, FakeJsMsg, FakeJetStreamManager).
 */
const ADDRESS = 'jane.doe+orders@shop.example';

let server: SMTPServer;
let smtpUrl: string;
beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onRcptTo(address, _session, callback) {
      callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(server.server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The refusal as the consumer's own (pooled) transport reports it. */
async function realRejection(): Promise<Error> {
  const mailer = createMailer({ SMTP_URL: smtpUrl, SMTP_POOL_MAX_CONNECTIONS: 1, SMTP_POOL_MAX_MESSAGES: 100 });
  try {
    await mailer.sendMail({ from: 'shop@orders.example', to: ADDRESS, subject: 's', text: 't' });
  } catch (err) {
    return err as Error;
  } finally {
    mailer.close();
  }
  throw new Error('the SMTP server accepted a recipient it should refuse');
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
  return { logger: createLogger('email-test', stream), lines };
}

describe('redactEmailAddresses (pure logic)', () => {
  it.each([
    ["Can't send mail - all recipients were rejected: 550 5.1.1 <jane@shop.example>: Recipient address rejected", `Can't send mail - all recipients were rejected: 550 5.1.1 <${REDACTED_EMAIL}>: Recipient address rejected`],
    ['to jane.doe+orders@mail.shop.example, cc x_y@localhost.', `to ${REDACTED_EMAIL}, cc ${REDACTED_EMAIL}.`],
    ['"jane doe"@shop.example and jürgen@bücher.example', `${REDACTED_EMAIL} and ${REDACTED_EMAIL}`],
  ])('redacts every address in %p', (text, redacted) => {
    expect(redactEmailAddresses(text)).toBe(redacted);
  });

  it('leaves text without an address as it is', () => {
    const text = 'failed 10 deliveries; last error: StockReserved for order 6f1c arrived before OrderPlaced (dlq:email:ORDER_EVENTS:12)';
    expect(redactEmailAddresses(text)).toBe(text);
  });
});

describe('an SMTP refusal', () => {
  it('is told by its reply code and command only (the library\'s own message quotes the address)', async () => {
    const rejection = await realRejection();
    expect(rejection.message).toContain(ADDRESS); // what the fix is for
    const error = new SmtpSendError(rejection);
    expect(error.message).toBe('SMTP 550 (RCPT TO)');
    expect(error.responseCode).toBe(550);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain('shop.example');
  });

  it('without a reply (server unreachable) is told by the library\'s error code', () => {
    const refused = Object.assign(new Error('Connection refused to jane@shop.example'), { code: 'ESOCKET', command: 'CONN' });
    expect(new SmtpSendError(refused).message).toBe('SMTP no reply (CONN, ESOCKET)');
    expect(new SmtpSendError('???').message).toBe('SMTP no reply');
  });

  it('leaves the email consumer as an SmtpSendError, and reaches neither the log nor the dead letter with the address', async () => {
    const orderId = randomUUID();
    const event = {
      id: randomUUID(), type: 'OrderConfirmed', schemaVersion: 2, occurredAt: new Date().toISOString(), orderId, correlationId: 'c', causationId: null,
      payload: { customerId: 'c1', currency: 'EUR', totalCents: 2500 },
    } as DomainEvent;
    const mailer = createMailer({ SMTP_URL: smtpUrl, SMTP_POOL_MAX_CONNECTIONS: 1, SMTP_POOL_MAX_MESSAGES: 100 });
    const { logger, lines } = capture();
    const deadLetters: string[] = [];
    try {
      const terms: (string | undefined)[] = [];
      const msg = {
        data: new TextEncoder().encode(JSON.stringify(event)), seq: 3, subject: 'orders.events.OrderConfirmed',
        info: { deliveryCount: 5, stream: 'ORDER_EVENTS' },
        ack() {}, nak() {}, working() {}, term(reason?: string) { terms.push(reason); },
      } as unknown as JsMsg;
      const outcome = await processMessage(msg, parseMessage(msg), {
        spec: { name: 'email', handles: new Set(['OrderConfirmed']), handle: (e) => sendEmailForEvent(fakePool(ADDRESS), mailer, 'shop@orders.example', e, logger) },
        settings: { concurrency: 1, maxDeliver: 5, ackWaitMs: 30_000, retryBaseMs: 1, retryMaxMs: 1 },
        logger,
        async deadLetter(_msg, reason) { deadLetters.push(reason); },
      });
      expect(outcome).toBe('dead-lettered');
      expect(deadLetters).toEqual(['failed 5 deliveries; last error: SMTP 550 (RCPT TO)']);
      expect(terms.join(' ')).not.toContain('shop.example');
      expect(lines.join('')).toContain('SMTP 550 (RCPT TO)');
      expect(lines.join('')).not.toContain('shop.example');
    } finally {
      mailer.close();
    }
  });

  it('is redacted from whatever error text a consumer\'s handler throws, in its log lines and dead letter', async () => {
    const { logger, lines } = capture();
    const deadLetters: string[] = [];
    const event = { id: randomUUID(), type: 'OrderConfirmed', schemaVersion: 2, occurredAt: new Date().toISOString(), orderId: randomUUID(), correlationId: 'c', causationId: null, payload: { customerId: 'c1', currency: 'EUR', totalCents: 1 } };
    for (const deliveryCount of [1, 5]) {
      const msg = { data: new TextEncoder().encode(JSON.stringify(event)), seq: 4, subject: 's.OrderConfirmed', info: { deliveryCount, stream: 'S' }, ack() {}, nak() {}, working() {}, term() {} } as unknown as JsMsg;
      await processMessage(msg, parseMessage(msg), {
        spec: { name: 'x', handles: new Set(['OrderConfirmed']), handle: async () => { throw new Error(`mailbox of ${ADDRESS} is full`); } },
        settings: { concurrency: 1, maxDeliver: 5, ackWaitMs: 30_000, retryBaseMs: 1, retryMaxMs: 1 },
        logger,
        async deadLetter(_msg, reason) { deadLetters.push(reason); },
      });
    }
    expect(lines).toHaveLength(2); // the retry's warning and the dead letter's error
    expect(lines.join('')).not.toContain('shop.example');
    expect(deadLetters).toEqual([`failed 5 deliveries; last error: mailbox of ${REDACTED_EMAIL} is full`]);
  });
});

describe('a dead letter stored before the fix', () => {
  it('is read with the address in its reason redacted (ops dlq, the operator inspection)', async () => {
    const h = natsHeaders();
    h.set(DLQ_HEADERS.consumer, 'email');
    h.set(DLQ_HEADERS.reason, `failed 10 deliveries; last error: Can't send mail - all recipients were rejected: 550 5.1.1 <${ADDRESS}>: Recipient address rejected`);
    h.set(DLQ_HEADERS.eventType, 'OrderConfirmed');
    const stored = { seq: 9, time: new Date(), header: h, data: new Uint8Array() } as unknown as StoredMsg;
    const fakeJetStreamManager = { streams: { getMessage: async () => stored } } as unknown as JetStreamManager;
    const letter = await getDeadLetter(fakeJetStreamManager, { EVENTS_STREAM: 'ORDER_EVENTS', EVENTS_SUBJECT_PREFIX: 'orders.events' }, 9);
    expect(letter?.reason).toBe(`failed 10 deliveries; last error: Can't send mail - all recipients were rejected: 550 5.1.1 <${REDACTED_EMAIL}>: Recipient address rejected`);
  });
});

/** FakePool: the order store as sendEmailForEvent reads and writes it (by statement name), in memory. */
function fakePool(customerEmail: string): Pool {
  const answers: Record<string, unknown[]> = {
    'email-inbox-and-recipient': [{ seen: false, customer_email: customerEmail }],
    'sent-email-claim': [{ previous_status: null, attempts: 1 }],
    'sent-email-failed': [],
  };
  return {
    async query(query: QueryConfig) {
      const rows = answers[query.name ?? ''];
      if (!rows) throw new Error(`FakePool has no answer for statement ${query.name ?? query.text}`);
      return { rows, rowCount: rows.length };
    },
  } as unknown as Pool;
}
