import { orderIdParam } from '../../api/schemas';
import { orderIdFor, uuidV5 } from '../../api/order-id';

describe('order id from (client, Idempotency-Key) (pure logic)', () => {
  it('is a name-based UUID (version 5, RFC 9562)', () => {
    // RFC 9562's own example: "www.example.com" in the DNS namespace.
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('is the same for a retry and different for another key or another client, and a valid order id', () => {
    const id = orderIdFor('shop-1', 'key-1');
    expect(orderIdFor('shop-1', 'key-1')).toBe(id);
    expect(new Set([id, orderIdFor('shop-1', 'key-2'), orderIdFor('shop-2', 'key-1'), orderIdFor('anonymous', 'key-1')]).size).toBe(4);
    // the separator keeps ("a", "b\nc") and ("a\nb", "c") apart; neither part may contain it anyway
    expect(orderIdFor('a', 'bc')).not.toBe(orderIdFor('ab', 'c'));
    expect(orderIdParam.safeParse(id).success).toBe(true);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
