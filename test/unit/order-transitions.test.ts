import { canTransition, orderStatuses, terminalStatuses } from '../../common/order/status';

describe('order state machine (pure logic)', () => {
  it('follows the saga forward', () => {
    expect(canTransition('PENDING', 'STOCK_RESERVED')).toBe(true);
    expect(canTransition('STOCK_RESERVED', 'PAYMENT_AUTHORIZED')).toBe(true);
    expect(canTransition('PAYMENT_AUTHORIZED', 'PAYMENT_CAPTURED')).toBe(true);
    expect(canTransition('PAYMENT_CAPTURED', 'CONFIRMED')).toBe(true);
  });

  it('never skips a step or goes back', () => {
    expect(canTransition('PENDING', 'CONFIRMED')).toBe(false);
    expect(canTransition('PAYMENT_CAPTURED', 'STOCK_RESERVED')).toBe(false);
  });

  it('lets every non-terminal status be cancelled and nothing leave a terminal one', () => {
    for (const status of orderStatuses) {
      if (terminalStatuses.has(status)) {
        for (const to of orderStatuses) expect(canTransition(status, to)).toBe(false);
      } else {
        expect(canTransition(status, 'CANCELLED')).toBe(true);
      }
    }
  });
});
