import { TransientPeerError } from '../common/clients/http-json';
import type { InventoryClient, Product } from '../common/clients/inventory-client';
import { problem } from '../common/http';
import type { Logger } from '../common/logger';
import type { PricedLine } from '../common/order/lines';
import type { CreateOrderBody } from './schemas';

/** The order's lines priced from inventory's catalog (never from the client), in the order's currency. */
export function catalogPricer(inventory: InventoryClient, logger: Logger) {
  return async function priced(order: CreateOrderBody): Promise<PricedLine[]> {
    let products: (Product | null)[];
    try {
      products = await Promise.all(order.items.map((i) => inventory.getProduct(i.sku)));
    } catch (err) {
      if (!(err instanceof TransientPeerError)) throw err;
      logger.error({ err }, 'could not read the catalog');
      throw problem(503, 'catalog-unavailable', 'Catalog unavailable',
        'The product catalog could not be read just now; this request reserved and charged nothing. Retry later.');
    }
    const unknown = order.items.filter((_, idx) => !products[idx]).map((i) => i.sku);
    if (unknown.length > 0) {
      throw problem(422, 'unknown-sku', 'Unknown product', `These SKUs are not in the catalog: ${unknown.join(', ')}.`, { skus: unknown });
    }
    const foreign = order.items.map((i, idx) => ({ sku: i.sku, currency: products[idx]!.currency ?? null })).filter((p) => p.currency !== order.currency);
    if (foreign.length > 0) {
      throw problem(422, 'currency-mismatch', 'Products priced in another currency',
        `The order is in ${order.currency}, but ${foreign.map((p) => `${p.sku} is priced in ${p.currency ?? 'an unknown currency'}`).join(', ')}. ` +
        'An order is charged in the currency of its products: order them in that currency (one order per currency).',
        { currency: order.currency, products: foreign });
    }
    return order.items.map((i, idx) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: products[idx]!.priceCents }));
  };
}
