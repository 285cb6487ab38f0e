import { randomUUID } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import pino from 'pino';
import type { DomainEvent } from '../../common/events';
import {
  parseMessage, processMessage, redeliveryDelayMs, type ConsumerSettings, type EventConsumerSpec, type HandleResult,
} from '../../workers/event-consumer';

type ConsumerContext = Parameters<typeof processMessage>[2];

/** In-memory stand-in for a JetStream message: records how it was settled. */
class FakeJsMsg {
  readonly calls: { op: 'ack' | 'nak' | 'term' | 'working'; arg?: number | string }[] = [];
  readonly subject: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly info: { deliveryCount: number; stream: string };

  constructor(data: string | Uint8Array, opts: { deliveryCount?: number; seq?: number; subject?: string } = {}) {
    this.data = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.seq = opts.seq ?? 42;
    this.subject = opts.subject ?? 'orders.events.OrderPlaced';
    this.info = { deliveryCount: opts.deliveryCount ?? 1, stream: 'ORDER_EVENTS' };
  }

  ack(): void { this.calls.push({ op: 'ack' }); }
  nak(delay?: number): void { this.calls.push({ op: 'nak', arg: delay }); }
  term(reason?: string): void { this.calls.push({ op: 'term', arg: reason }); }
  working(): void { this.calls.push({ op: 'working' }); }

  ops(): string[] { return this.calls.map((c) => c.op); }
  count(op: FakeJsMsg['calls'][number]['op']): number { return this.calls.filter((c) => c.op === op).length; }
  asJsMsg(): JsMsg { return this as unknown as JsMsg; }
}

const settings: ConsumerSettings = { concurrency: 4, maxDeliver: 5, ackWaitMs: 30_000, retryBaseMs: 200, retryMaxMs: 5_000 };

interface FakeContext extends ConsumerContext {
  deadLetters: { msg: JsMsg; reason: string }[];
  handled: DomainEvent[];
}

function context(opts: {
  handles?: string[];
  handle?: (event: DomainEvent) => Promise<HandleResult>;
  deadLetterFails?: Error;
  settings?: Partial<ConsumerSettings>;
} = {}): FakeContext {
  const deadLetters: FakeContext['deadLetters'] = [];
  const handled: DomainEvent[] = [];
  const spec: EventConsumerSpec = {
    name: 'test-consumer',
    handles: new Set(opts.handles ?? ['OrderPlaced']),
    async handle(event) {
      handled.push(event);
      return opts.handle ? opts.handle(event) : 'applied';
    },
  };
  return {
    spec,
    settings: { ...settings, ...opts.settings },
    logger: pino({ level: 'silent' }),
    async deadLetter(msg, reason) {
      if (opts.deadLetterFails) throw opts.deadLetterFails;
      deadLetters.push({ msg, reason });
    },
    deadLetters,
    handled,
  };
}

const orderId = randomUUID();
function eventJson(type = 'OrderPlaced', payload: unknown = { customerId: 'c1', currency: 'EUR', totalCents: 500, lines: [{ sku: 'S', quantity: 2, unitPriceCents: 250 }], itemCount: 2 }, schemaVersion = 2, occurredAt = new Date()): string {
  return JSON.stringify({
    id: randomUUID(), type, schemaVersion, occurredAt: occurredAt.toISOString(), orderId,
    correlationId: 'req-1', causationId: null, payload,
  });
}

async function run(msg: FakeJsMsg, ctx: FakeContext) {
  return processMessage(msg.asJsMsg(), parseMessage(msg), ctx);
}

describe('parseMessage (pure logic)', () => {
  it('keys a known event by its order', () => {
    const parsed = parseMessage(new FakeJsMsg(eventJson()));
    expect(parsed.key).toBe(orderId);
    expect(parsed.event?.type).toBe('OrderPlaced');
    expect(parsed.malformed).toBeUndefined();
    expect(parsed.notMine).toBeUndefined();
  });

  it('upcasts an older version before handing the event on', () => {
    const parsed = parseMessage(new FakeJsMsg(eventJson('OrderPlaced', { customerId: 'c1', currency: 'EUR', totalCents: 500, lines: [{ sku: 'S', quantity: 3, unitPriceCents: 1 }] }, 1)));
    expect(parsed.event?.schemaVersion).toBe(2);
    expect(parsed.event?.payload).toMatchObject({ itemCount: 3 });
  });

  it('marks an unknown event type as not mine, keyed by its order', () => {
    const parsed = parseMessage(new FakeJsMsg(eventJson('GiftWrapped', { colour: 'red' })));
    expect(parsed).toEqual({ notMine: true, key: orderId });
  });

  it.each([
    ['not JSON', '{nope'],
    ['an invalid envelope', JSON.stringify({ type: 'OrderPlaced' })],
    ['an invalid payload', eventJson('OrderPlaced', { customerId: 'c1' })],
  ])('marks %s as malformed with an empty key', (_what, raw) => {
    const parsed = parseMessage(new FakeJsMsg(raw));
    expect(parsed.key).toBe('');
    expect(typeof parsed.malformed).toBe('string');
    expect(parsed.malformed!.length).toBeGreaterThan(0);
    expect(parsed.event).toBeUndefined();
  });
});

describe('processMessage decisions (pure logic)', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('dead-letters malformed JSON with a malformed: reason, then terms it', async () => {
    const msg = new FakeJsMsg('{nope');
    const ctx = context();
    await expect(run(msg, ctx)).resolves.toBe('dead-lettered');
    expect(ctx.deadLetters).toHaveLength(1);
    expect(ctx.deadLetters[0]!.msg).toBe(msg.asJsMsg());
    expect(ctx.deadLetters[0]!.reason).toMatch(/^malformed: /);
    expect(ctx.deadLetters[0]!.reason).toContain('not valid JSON');
    expect(msg.ops()).toEqual(['term']);
    expect(msg.calls[0]!.arg).toBe(ctx.deadLetters[0]!.reason);
    expect(ctx.handled).toHaveLength(0);
  });

  it('dead-letters a payload invalid for its schema without calling the handler', async () => {
    const msg = new FakeJsMsg(eventJson('OrderPlaced', { customerId: 'c1' }));
    const ctx = context();
    await expect(run(msg, ctx)).resolves.toBe('dead-lettered');
    expect(ctx.deadLetters[0]!.reason).toMatch(/^malformed: OrderPlaced v2 payload invalid/);
    expect(msg.ops()).toEqual(['term']);
    expect(ctx.handled).toHaveLength(0);
  });

  it('truncates the term reason to 200 characters but dead-letters the full reason', async () => {
    const longMessage = 'x'.repeat(500);
    const msg = new FakeJsMsg(eventJson(), { deliveryCount: settings.maxDeliver });
    const ctx = context({ handle: async () => { throw new Error(longMessage); } });
    await expect(run(msg, ctx)).resolves.toBe('dead-lettered');
    expect(ctx.deadLetters[0]!.reason).toContain(longMessage);
    const term = msg.calls.find((c) => c.op === 'term')!;
    expect(term.arg).toBe(ctx.deadLetters[0]!.reason.slice(0, 200));
  });

  it('naks with a delay and does not term when the dead letter cannot be stored', async () => {
    const msg = new FakeJsMsg('{nope', { deliveryCount: 3 });
    const ctx = context({ deadLetterFails: new Error('DLQ stream unavailable') });
    await expect(run(msg, ctx)).resolves.toBe('retried');
    expect(msg.ops()).toEqual(['nak']);
    expect(msg.calls[0]!.arg).toBe(redeliveryDelayMs(3, settings.retryBaseMs, settings.retryMaxMs));
    expect(msg.count('term')).toBe(0);
    expect(msg.count('ack')).toBe(0);
  });

  it('acks and skips an event type the consumer does not handle', async () => {
    const msg = new FakeJsMsg(eventJson('StockReserved', { lines: [{ sku: 'S', quantity: 1 }] }, 1));
    const ctx = context({ handles: ['OrderPlaced'] });
    await expect(run(msg, ctx)).resolves.toBe('not-mine');
    expect(msg.ops()).toEqual(['ack']);
    expect(ctx.handled).toHaveLength(0);
    expect(ctx.deadLetters).toHaveLength(0);
  });

  it('acks and skips an event type no one knows', async () => {
    const msg = new FakeJsMsg(eventJson('GiftWrapped', { colour: 'red' }, 1));
    const ctx = context({ handles: ['OrderPlaced', 'GiftWrapped'] });
    await expect(run(msg, ctx)).resolves.toBe('not-mine');
    expect(msg.ops()).toEqual(['ack']);
    expect(ctx.handled).toHaveLength(0);
  });

  it.each<HandleResult>(['applied', 'already-processed', 'ignored'])('acks once and returns the handler result %p', async (result) => {
    const msg = new FakeJsMsg(eventJson());
    const ctx = context({ handle: async () => result });
    await expect(run(msg, ctx)).resolves.toBe(result);
    expect(msg.ops()).toEqual(['ack']);
    expect(ctx.handled).toHaveLength(1);
    expect(ctx.handled[0]!.orderId).toBe(orderId);
    expect(ctx.deadLetters).toHaveLength(0);
  });

  it.each([1, 2, 4])('naks with the growing delay and does not ack when the handler fails at delivery %p of 5', async (deliveryCount) => {
    const msg = new FakeJsMsg(eventJson(), { deliveryCount });
    const ctx = context({ handle: async () => { throw new Error('db down'); } });
    await expect(run(msg, ctx)).resolves.toBe('retried');
    expect(msg.ops()).toEqual(['nak']);
    expect(msg.calls[0]!.arg).toBe(redeliveryDelayMs(deliveryCount, settings.retryBaseMs, settings.retryMaxMs));
    expect(msg.calls[0]!.arg).toBe(Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (deliveryCount - 1)));
    expect(ctx.deadLetters).toHaveLength(0);
  });

  it('caps the nak delay at retryMaxMs', async () => {
    const msg = new FakeJsMsg(eventJson(), { deliveryCount: 9 });
    const ctx = context({ handle: async () => { throw new Error('db down'); }, settings: { maxDeliver: 10 } });
    await expect(run(msg, ctx)).resolves.toBe('retried');
    expect(msg.calls).toEqual([{ op: 'nak', arg: settings.retryMaxMs }]);
  });

  it('dead-letters with the error and delivery count, then terms, when the handler fails at the last delivery', async () => {
    const msg = new FakeJsMsg(eventJson(), { deliveryCount: settings.maxDeliver });
    const ctx = context({ handle: async () => { throw new Error('constraint violated'); } });
    await expect(run(msg, ctx)).resolves.toBe('dead-lettered');
    expect(ctx.deadLetters).toHaveLength(1);
    const { reason } = ctx.deadLetters[0]!;
    expect(reason).toContain('constraint violated');
    expect(reason).toContain(String(settings.maxDeliver));
    expect(reason).toBe(`failed ${settings.maxDeliver} deliveries; last error: constraint violated`);
    expect(msg.ops()).toEqual(['term']);
    expect(msg.count('ack')).toBe(0);
    expect(msg.count('nak')).toBe(0);
  });

  it('also dead-letters when the delivery count is past maxDeliver', async () => {
    const msg = new FakeJsMsg(eventJson(), { deliveryCount: settings.maxDeliver + 2 });
    const ctx = context({ handle: async () => { throw new Error('still broken'); } });
    await expect(run(msg, ctx)).resolves.toBe('dead-lettered');
    expect(ctx.deadLetters[0]!.reason).toContain(`failed ${settings.maxDeliver + 2} deliveries`);
    expect(msg.ops()).toEqual(['term']);
  });

  it('naks instead of terming when the last-delivery dead letter cannot be stored', async () => {
    const msg = new FakeJsMsg(eventJson(), { deliveryCount: settings.maxDeliver });
    const ctx = context({ handle: async () => { throw new Error('constraint violated'); }, deadLetterFails: new Error('DLQ down') });
    await expect(run(msg, ctx)).resolves.toBe('retried');
    expect(msg.ops()).toEqual(['nak']);
    expect(msg.calls[0]!.arg).toBe(redeliveryDelayMs(settings.maxDeliver, settings.retryBaseMs, settings.retryMaxMs));
  });

  it('tells the broker it is still working while a handler runs long, and stops once it is done', async () => {
    jest.useFakeTimers();
    let finish!: () => void;
    const msg = new FakeJsMsg(eventJson());
    const ctx = context({ handle: () => new Promise<HandleResult>((resolve) => { finish = () => resolve('applied'); }), settings: { ackWaitMs: 30_000 } });
    const outcome = run(msg, ctx);
    jest.advanceTimersByTime(9_999);
    expect(msg.count('working')).toBe(0);
    jest.advanceTimersByTime(1);
    expect(msg.count('working')).toBe(1); // every ackWait / 3
    jest.advanceTimersByTime(20_000);
    expect(msg.count('working')).toBe(3);
    finish();
    await expect(outcome).resolves.toBe('applied');
    jest.advanceTimersByTime(60_000);
    expect(msg.ops()).toEqual(['working', 'working', 'working', 'ack']);
  });

  it('sends the heartbeat at least every second when the ack wait is short', async () => {
    jest.useFakeTimers();
    let finish!: () => void;
    const msg = new FakeJsMsg(eventJson());
    const ctx = context({ handle: () => new Promise<HandleResult>((_, reject) => { finish = () => reject(new Error('late failure')); }), settings: { ackWaitMs: 900 } });
    const outcome = run(msg, ctx);
    jest.advanceTimersByTime(999);
    expect(msg.count('working')).toBe(0);
    jest.advanceTimersByTime(1);
    expect(msg.count('working')).toBe(1);
    finish();
    await expect(outcome).resolves.toBe('retried');
    jest.advanceTimersByTime(10_000);
    expect(msg.ops()).toEqual(['working', 'nak']);
  });
});

describe('events older than the inbox remembers (pure logic)', () => {
  const day = 86_400_000;
  it('dead-letters an event older than INBOX_RETENTION instead of handling it, and handles one just younger', async () => {
    const ctx = context({ settings: { inboxRetentionMs: 61 * day } });
    const old = new FakeJsMsg(eventJson(undefined, undefined, undefined, new Date(Date.now() - 62 * day)));
    expect(await run(old, ctx)).toBe('dead-lettered');
    expect(ctx.handled).toHaveLength(0);
    expect(ctx.deadLetters[0]!.reason).toMatch(/^older than INBOX_RETENTION/);
    expect(old.ops()).toEqual(['term']);

    const young = new FakeJsMsg(eventJson(undefined, undefined, undefined, new Date(Date.now() - 60 * day)));
    expect(await run(young, ctx)).toBe('applied');
    expect(young.ops()).toEqual(['ack']);
  });
});
