import { Saga } from '../../workflows/saga';

describe('Saga compensation (pure logic)', () => {
  it('runs undos in reverse order of registration, each once', async () => {
    const ran: string[] = [];
    const saga = new Saga();
    for (const name of ['release-stock', 'void-payment', 'refund-payment']) saga.register(name, async () => ran.push(name));
    expect(saga.pending).toEqual(['refund-payment', 'void-payment', 'release-stock']);
    await expect(saga.compensate()).resolves.toEqual(['refund-payment', 'void-payment', 'release-stock']);
    expect(ran).toEqual(['refund-payment', 'void-payment', 'release-stock']);
    await expect(saga.compensate()).resolves.toEqual([]);
    expect(ran).toHaveLength(3);
  });

  it('stops at a failing undo and keeps it and the earlier ones pending', async () => {
    const ran: string[] = [];
    const saga = new Saga();
    saga.register('release-stock', async () => ran.push('release-stock'));
    saga.register('void-payment', async () => { throw new Error('payment service down'); });
    saga.register('refund-payment', async () => ran.push('refund-payment'));
    await expect(saga.compensate()).rejects.toThrow('payment service down');
    expect(ran).toEqual(['refund-payment']);
    expect(saga.pending).toEqual(['void-payment', 'release-stock']);
  });

  it('forgets its undos past the point of no return: none runs any more', async () => {
    const ran: string[] = [];
    const saga = new Saga();
    for (const name of ['release-stock', 'void-payment']) saga.register(name, async () => ran.push(name));
    expect(saga.forget()).toEqual(['void-payment', 'release-stock']);
    expect(saga.pending).toEqual([]);
    await expect(saga.compensate()).resolves.toEqual([]);
    expect(ran).toEqual([]);
  });
});
