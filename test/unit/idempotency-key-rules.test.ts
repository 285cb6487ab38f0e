import { HttpProblem, PROBLEM_BASE } from '../../common/http';
import { IdempotencyKeyInUse, keyReusedProblem, runWithIdempotencyKey, type IdempotencyStore, type KeptAnswer, type KeyHolder } from '../../common/idempotency-key';

/** The rules of common/idempotency-key.ts over an in-memory fake store (pure logic; the real stores have their own tests). */
class InMemoryFakeStore implements IdempotencyStore<string> {
  readonly kept: KeptAnswer[] = [];
  readonly released: string[] = [];
  constructor(private readonly holder?: KeyHolder | null) {}
  async claim() {
    return this.holder === undefined ? { claim: 'claim-1' } : { holder: this.holder };
  }
  async keep(_claim: string, answer: KeptAnswer) {
    this.kept.push(answer);
  }
  async release(claim: string) {
    this.released.push(claim);
  }
}

const request = { key: 'k-1', operation: 'POST /orders', requestHash: 'hash-a' };
const reused = () => 'used with another request';
const answer = (status: number, body: unknown = { ok: true }): KeptAnswer => ({ status, body, headers: {} });

describe('Idempotency-Key rules (pure logic, in-memory fake store)', () => {
  it.each([
    ['a 2xx', 'kept', answer(202)],
    ['a 4xx', 'kept', answer(400, { type: `${PROBLEM_BASE}validation-error` })],
    ['a 422 of another kind', 'kept', answer(422, { type: `${PROBLEM_BASE}duplicate-sku` })],
    ['a 5xx', 'released', answer(503)],
    ['the work\'s refusal of the key (422 idempotency-key-reused)', 'released', answer(422, keyReusedProblem('another body').problem)],
  ])('%s is %s', async (_what, fate, given) => {
    const store = new InMemoryFakeStore();
    const outcome = await runWithIdempotencyKey(store, request, async () => given, reused);
    expect(outcome).toEqual({ answer: given, replayed: false });
    expect(fate === 'kept' ? store.kept : store.released).toHaveLength(1);
    expect(fate === 'kept' ? store.released : store.kept).toHaveLength(0);
  });

  it('releases the key when the work fails, and throws its error on', async () => {
    const store = new InMemoryFakeStore();
    await expect(runWithIdempotencyKey(store, request, async () => { throw new Error('peer down'); }, reused)).rejects.toThrow('peer down');
    expect(store.released).toEqual(['claim-1']);
  });

  it('replays the answer of the same request, and refuses another request once the holder has answered', async () => {
    const kept = answer(202, { orderId: 'o-1' });
    expect(await runWithIdempotencyKey(new InMemoryFakeStore({ operation: 'POST /orders', requestHash: 'hash-a', answer: kept }), request, async () => answer(500), reused))
      .toEqual({ answer: kept, replayed: true });
    const refused = runWithIdempotencyKey(new InMemoryFakeStore({ operation: 'POST /orders', requestHash: 'hash-b', answer: kept }), request, async () => answer(500), reused);
    await expect(refused).rejects.toMatchObject({ problem: { status: 422, type: `${PROBLEM_BASE}idempotency-key-reused`, detail: 'used with another request' } });
  });

  it('answers 409 to any request while the holder has not answered, whatever its body: a holder may yet be refused and let the key go', async () => {
    for (const requestHash of ['hash-a', 'hash-b']) {
      const err = await runWithIdempotencyKey(new InMemoryFakeStore({ operation: 'POST /orders', requestHash }), request, async () => answer(202), reused).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdempotencyKeyInUse);
      expect((err as IdempotencyKeyInUse).retryAfterSeconds).toBe(1);
    }
    const gone = await runWithIdempotencyKey(new InMemoryFakeStore(null), request, async () => answer(202), reused).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(HttpProblem);
    expect((gone as HttpProblem).problem.status).toBe(409);
  });
});
