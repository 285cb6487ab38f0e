import { createOrderBody } from '../../api/schemas';
import { skuSchema } from '../../services/inventory/validation';

/** A SKU is a URL path segment at inventory: one of only dots would be a dot segment, another route. */
describe('the SKU rule (pure logic)', () => {
  const apiAccepts = (sku: string) => createOrderBody.safeParse({
    customerId: 'c-1', customerEmail: 'a@b.example', currency: 'EUR', items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' },
  }).success;

  it('refuses SKUs of only dots at the API and at inventory, and keeps every other', () => {
    for (const sku of ['.', '..', '...']) expect({ sku, api: apiAccepts(sku), inventory: skuSchema.safeParse(sku).success }).toEqual({ sku, api: false, inventory: false });
    for (const sku of ['MUG-001', 'a.b', '.x', 'x.', '_', 'A'.repeat(64)]) expect({ sku, api: apiAccepts(sku), inventory: skuSchema.safeParse(sku).success }).toEqual({ sku, api: true, inventory: true });
    expect(skuSchema.safeParse('A'.repeat(65)).success).toBe(false);
  });
});
