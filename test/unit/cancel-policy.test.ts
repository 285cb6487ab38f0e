import { cancelRefusal } from '../../common/order/status';

describe('customer cancel validator (pure logic)', () => {
  const running = (currentStep: string | null, cancelRequested = false, completedSteps: string[] = []) => ({ currentStep, cancelRequested, completedSteps });

  it.each(['reserve-stock', 'authorize-payment', 'await-payment-confirmation', 'capture-payment', null])('accepts while the saga can be undone (step %s)', (step) => {
    expect(cancelRefusal(running(step), undefined)).toBeUndefined();
  });

  it('refuses once the stock commit has started', () => {
    expect(cancelRefusal(running('commit-stock'), undefined)).toMatch(/being confirmed/);
  });

  it('refuses after the stock commit, while CONFIRMED is being recorded and no step is current', () => {
    const done = ['reserve-stock', 'authorize-payment', 'capture-payment', 'commit-stock'];
    expect(cancelRefusal(running(null, false, done), undefined)).toMatch(/being confirmed/);
  });

  it('refuses while undoing for another reason, and after any other ending', () => {
    expect(cancelRefusal(running('compensating'), undefined)).toMatch(/already being cancelled/);
    expect(cancelRefusal(running(null), { orderId: 'o', status: 'CONFIRMED' })).toMatch(/CONFIRMED/);
    expect(cancelRefusal(running(null), { orderId: 'o', status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' })).toMatch(/CANCELLED/);
  });

  it('gives the same acceptance to a repeated cancel, even after it finished', () => {
    expect(cancelRefusal(running('compensating', true), undefined)).toBeUndefined();
    expect(cancelRefusal(running(null, true), { orderId: 'o', status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' })).toBeUndefined();
  });
});
