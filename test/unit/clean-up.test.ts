import { cleanUp } from '../harness/clean-up';

/** test/harness/clean-up.ts, the afterAll of the integration tests: no step is skipped because one before it threw. */
describe('cleanUp (pure logic)', () => {
  it('runs every step in order whatever the ones before threw, then throws the first failure', async () => {
    const ran: string[] = [];
    const closing = new Error('browser would not close');
    await expect(cleanUp(
      () => { ran.push('contexts'); },
      async () => { ran.push('browser'); throw closing; },
      async () => { ran.push('system'); },
    )).rejects.toBe(closing);
    expect(ran).toEqual(['contexts', 'browser', 'system']);
  });

  it('throws every failure when more than one step failed', async () => {
    const ran: string[] = [];
    const failed = cleanUp(
      () => { ran.push('a'); throw new Error('a failed'); },
      () => { ran.push('b'); },
      () => { ran.push('c'); return Promise.reject(new Error('c failed')); },
    );
    await expect(failed).rejects.toThrow(AggregateError);
    await expect(failed).rejects.toThrow('2 clean-up steps failed: a failed; c failed');
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('resolves when every step did', async () => {
    await expect(cleanUp(() => undefined, async () => 1)).resolves.toBeUndefined();
  });
});
