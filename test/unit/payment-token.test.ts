import { createOrderBody } from '../../api/schemas';
import { authorizeBodySchema } from '../../services/payment/validation';

describe('payment token format at the API (pure logic)', () => {
  const order = (token: string) => ({
    customerId: 'c-1', customerEmail: 'a@b.example', currency: 'EUR', items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token },
  });
  const apiAccepts = (token: string) => createOrderBody.safeParse(order(token)).success;
  const paymentAccepts = (token: string) =>
    authorizeBodySchema.safeParse({ orderId: '2ed6657d-e927-568b-95e1-2665a8aea6a2', amountCents: 1, currency: 'EUR', token }).success;

  it('accepts exactly the tokens the payment service accepts', () => {
    const tokens = ['tok_visa', 'tok_chargeDeclined', 'tok_threeDSecure', 'tok_a', `tok_${'x'.repeat(64)}`, `tok_${'x'.repeat(65)}`,
      'tok_', 'visa', 'TOK_visa', 'tok-visa', 'tok_visa!', 'tok_vi sa', ' tok_visa', '4242424242424242', '', 'tok_ä'];
    for (const token of tokens) expect([token, apiAccepts(token)]).toEqual([token, paymentAccepts(token)]);
    expect(tokens.filter(apiAccepts)).toEqual(['tok_visa', 'tok_chargeDeclined', 'tok_threeDSecure', 'tok_a', `tok_${'x'.repeat(64)}`]);
  });
});
