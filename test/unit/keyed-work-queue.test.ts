import { redeliveryDelayMs } from '../../workers/event-consumer';
import { KeyedWorkQueue } from '../../workers/keyed-work-queue';

interface Deferred { promise: Promise<void>; resolve(): void; reject(err: Error): void }

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Lets every pending microtask and promise chain settle. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records when tasks start and end, how many run at once, and the most that ever ran at once. */
class Tracker {
  active = 0;
  maxActive = 0;
  readonly log: string[] = [];
  readonly gates = new Map<string, Deferred>();

  /** A task that starts, waits until `release(name)` (or `fail(name)`), then ends. */
  blocked(name: string): () => Promise<void> {
    const gate = deferred();
    this.gates.set(name, gate);
    return async () => {
      this.start(name);
      try {
        await gate.promise;
      } finally {
        this.end(name);
      }
    };
  }

  /** A task that ends on its own after a macrotask. */
  quick(name: string): () => Promise<void> {
    return async () => {
      this.start(name);
      await flush();
      this.end(name);
    };
  }

  started(name: string): boolean { return this.log.includes(`start ${name}`); }
  ended(name: string): boolean { return this.log.includes(`end ${name}`); }

  async release(name: string): Promise<void> {
    this.gates.get(name)!.resolve();
    await flush();
  }

  async fail(name: string, err = new Error(`${name} failed`)): Promise<void> {
    this.gates.get(name)!.reject(err);
    await flush();
  }

  private start(name: string) {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.log.push(`start ${name}`);
  }

  private end(name: string) {
    this.active -= 1;
    this.log.push(`end ${name}`);
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function settledFlag(p: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  p.then(() => { state.settled = true; }, () => { state.settled = true; });
  return state;
}

describe('KeyedWorkQueue (pure logic)', () => {
  it('never runs more than `limit` tasks at once', async () => {
    const limit = 3;
    const queue = new KeyedWorkQueue(limit);
    const t = new Tracker();
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const submits = names.map((name) => queue.submit(name, t.blocked(name)));
    await flush();
    expect(t.active).toBe(limit);
    expect(names.filter((n) => t.started(n))).toEqual(['t0', 't1', 't2']);

    // Release out of order; whatever finishes, the next waiter takes its slot.
    for (const name of ['t1', 't0', 't4', 't2', 't3', 't6', 't5', 't9', 't8', 't7']) {
      await t.release(name);
      expect(t.active).toBeLessThanOrEqual(limit);
    }
    await Promise.all(submits);
    await queue.idle();
    expect(t.active).toBe(0);
    expect(t.maxActive).toBe(limit);
    expect(names.every((n) => t.ended(n))).toBe(true);
  });

  it('never runs more than `limit` tasks at once when submits are awaited one after another (as the consumer loop does)', async () => {
    const limit = 2;
    const queue = new KeyedWorkQueue(limit);
    const t = new Tracker();
    const names = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const producer = (async () => {
      for (const name of names) await queue.submit(`key-${Number(name.slice(1)) % 3}`, t.blocked(name));
    })();
    for (let i = 0; i < names.length; i += 1) {
      await flush();
      const runningNow = names.filter((n) => t.started(n) && !t.ended(n));
      expect(runningNow.length).toBeLessThanOrEqual(limit);
      expect(runningNow.length).toBeGreaterThan(0);
      await t.release(runningNow[0]!);
    }
    await producer;
    await queue.idle();
    expect(t.maxActive).toBeLessThanOrEqual(limit);
    expect(names.every((n) => t.ended(n))).toBe(true);
  });

  it('runs tasks of one key strictly one after another in submission order, even when another key finishes first', async () => {
    const queue = new KeyedWorkQueue(10);
    const t = new Tracker();
    void queue.submit('order-1', t.blocked('a1'));
    void queue.submit('order-2', t.blocked('b1'));
    void queue.submit('order-1', t.blocked('a2'));
    void queue.submit('order-1', t.quick('a3'));
    await flush();
    expect(t.started('a1')).toBe(true);
    expect(t.started('b1')).toBe(true);
    expect(t.started('a2')).toBe(false);

    await t.release('b1'); // another key finishing does not let a2 jump ahead of a1
    expect(t.ended('b1')).toBe(true);
    expect(t.started('a2')).toBe(false);

    await t.release('a1');
    expect(t.started('a2')).toBe(true);
    expect(t.started('a3')).toBe(false);

    await t.release('a2');
    await queue.idle();
    const ofOrder1 = t.log.filter((e) => / a\d$/.test(e));
    expect(ofOrder1).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
  });

  it('does not start a quick task of a key before a slow earlier task of that key ended', async () => {
    const queue = new KeyedWorkQueue(4);
    const t = new Tracker();
    void queue.submit('k', t.blocked('slow'));
    void queue.submit('k', t.quick('fast'));
    await flush();
    await flush();
    expect(t.started('fast')).toBe(false);
    await t.release('slow');
    await queue.idle();
    expect(t.log).toEqual(['start slow', 'end slow', 'start fast', 'end fast']);
  });

  it('runs tasks of different keys in parallel', async () => {
    const queue = new KeyedWorkQueue(3);
    const t = new Tracker();
    for (const k of ['a', 'b', 'c']) void queue.submit(k, t.blocked(k));
    await flush();
    expect(t.active).toBe(3);
    for (const k of ['a', 'b', 'c']) await t.release(k);
    await queue.idle();
  });

  it('does not block later tasks of a key when a task throws or rejects', async () => {
    const queue = new KeyedWorkQueue(2);
    const t = new Tracker();
    void queue.submit('k', t.blocked('rejects'));
    void queue.submit('k', async () => { throw new Error('sync-style throw in an async task'); });
    void queue.submit('k', t.quick('after'));
    await flush();
    await t.fail('rejects');
    await queue.idle();
    expect(t.ended('after')).toBe(true);
    expect(t.log).toEqual(['start rejects', 'end rejects', 'start after', 'end after']);
  });

  it('frees the slot of a throwing task', async () => {
    const queue = new KeyedWorkQueue(1);
    const t = new Tracker();
    const first = queue.submit('a', async () => { throw new Error('boom'); });
    await expect(first).resolves.toBeUndefined();
    const second = settledFlag(queue.submit('b', t.quick('b')));
    await flush();
    await flush();
    expect(second.settled).toBe(true);
    await queue.idle();
    expect(t.ended('b')).toBe(true);
  });

  it('resolves submit only once a slot is free (backpressure)', async () => {
    const queue = new KeyedWorkQueue(2);
    const t = new Tracker();
    const s1 = settledFlag(queue.submit('a', t.blocked('a')));
    const s2 = settledFlag(queue.submit('b', t.blocked('b')));
    const s3 = settledFlag(queue.submit('c', t.blocked('c')));
    await flush();
    expect(s1.settled).toBe(true); // resolves when the task has a slot, not when it finishes
    expect(s2.settled).toBe(true);
    expect(t.ended('a')).toBe(false);
    expect(s3.settled).toBe(false);
    expect(t.started('c')).toBe(false);

    await flush();
    expect(s3.settled).toBe(false);

    await t.release('b');
    expect(s3.settled).toBe(true);
    expect(t.started('c')).toBe(true);
    await t.release('a');
    await t.release('c');
    await queue.idle();
  });

  it('hands freed slots to waiting submits in the order they were made', async () => {
    const queue = new KeyedWorkQueue(1);
    const t = new Tracker();
    void queue.submit('a', t.blocked('a'));
    void queue.submit('b', t.blocked('b'));
    void queue.submit('c', t.blocked('c'));
    await flush();
    await t.release('a');
    expect(t.started('b')).toBe(true);
    expect(t.started('c')).toBe(false);
    await t.release('b');
    await t.release('c');
    await queue.idle();
    expect(t.log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('resolves idle() only after all tasks finished', async () => {
    const queue = new KeyedWorkQueue(2);
    const t = new Tracker();
    await queue.submit('a', t.blocked('a1'));
    await queue.submit('a', t.blocked('a2'));
    const waiting = queue.submit('b', t.blocked('b1'));
    const idle = settledFlag(queue.idle());
    await flush();
    expect(idle.settled).toBe(false);
    await t.release('a1');
    expect(idle.settled).toBe(false);
    await waiting;
    await t.release('a2');
    expect(idle.settled).toBe(false);
    await t.release('b1');
    expect(idle.settled).toBe(true);
    expect(t.active).toBe(0);
    expect(['a1', 'a2', 'b1'].every((n) => t.ended(n))).toBe(true);
  });

  it('resolves idle() at once when nothing was submitted', async () => {
    await expect(new KeyedWorkQueue(1).idle()).resolves.toBeUndefined();
  });

  it('resolves idle() again after the queue drained and got new work', async () => {
    const queue = new KeyedWorkQueue(1);
    const t = new Tracker();
    await queue.submit('a', t.quick('first'));
    await queue.idle();
    await queue.submit('a', t.blocked('second'));
    const idle = settledFlag(queue.idle());
    await flush();
    expect(idle.settled).toBe(false);
    await t.release('second');
    expect(idle.settled).toBe(true);
  });

  // A submit that is already waiting for a slot and a new submit made while the freed slot is
  // being handed over. The class promises "at most `limit` at once" and "same key in submission
  // order" to any caller, so whichever microtask the new submit lands in, both must hold.
  describe('with a new submit racing the hand-over of a freed slot', () => {
    async function race(depth: number, keyOfLate: string) {
      const queue = new KeyedWorkQueue(1);
      const t = new Tracker();
      void queue.submit('k', t.blocked('first'));
      void queue.submit('k', t.quick('waiting'));
      await flush();
      t.gates.get('first')!.resolve();
      let p: Promise<unknown> = Promise.resolve();
      for (let i = 0; i < depth; i += 1) p = p.then(() => undefined);
      void p.then(() => queue.submit(keyOfLate, t.quick('late')));
      for (let i = 0; i < 4; i += 1) await flush();
      await queue.idle();
      return t;
    }

    it('keeps at most `limit` tasks running whichever microtask the new submit lands in', async () => {
      const over: number[] = [];
      for (let depth = 0; depth < 12; depth += 1) {
        const t = await race(depth, 'other');
        if (t.maxActive > 1) over.push(depth);
      }
      expect(over).toEqual([]);
    });

    it('keeps submission order for a key whichever microtask the new submit lands in', async () => {
      const reordered: number[] = [];
      for (let depth = 0; depth < 12; depth += 1) {
        const t = await race(depth, 'k');
        if (t.log.indexOf('start late') < t.log.indexOf('start waiting')) reordered.push(depth);
      }
      expect(reordered).toEqual([]);
    });
  });
});

describe('redeliveryDelayMs (pure logic)', () => {
  it('starts at the base delay and doubles per delivery with the defaults (1 s base, 60 s cap)', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => redeliveryDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000]);
  });

  it('caps at the maximum', () => {
    expect(redeliveryDelayMs(20)).toBe(60_000);
    expect(redeliveryDelayMs(1_000)).toBe(60_000);
    expect(redeliveryDelayMs(Number.MAX_SAFE_INTEGER)).toBe(60_000);
  });

  it('uses a custom base and maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => redeliveryDelayMs(n, 250, 1_500))).toEqual([250, 500, 1_000, 1_500, 1_500]);
    expect(redeliveryDelayMs(3, 100, 10_000)).toBe(400);
    expect(redeliveryDelayMs(1, 5_000, 1_000)).toBe(1_000); // cap below the base wins
  });

  it('treats a delivery count below 1 as the first delivery', () => {
    expect(redeliveryDelayMs(0, 300, 10_000)).toBe(300);
    expect(redeliveryDelayMs(-5, 300, 10_000)).toBe(300);
  });

  it('never grows without bound or overflows for huge counts with a huge cap', () => {
    const delay = redeliveryDelayMs(1_000, 1, Number.MAX_SAFE_INTEGER);
    expect(Number.isFinite(delay)).toBe(true);
    expect(delay).toBe(2 ** 30);
  });
});
