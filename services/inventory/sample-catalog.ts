import type { Pool } from 'pg';

/** The small catalog `npm run dev` and docker-compose start with, so the README's first order (in EUR) works. */
export const SAMPLE_CATALOG = [
  { sku: 'MUG-001', name: 'Coffee mug', priceCents: 1250, currency: 'EUR', stock: 100 },
  { sku: 'TSHIRT-M', name: 'T-shirt, size M', priceCents: 2500, currency: 'EUR', stock: 50 },
  { sku: 'POSTER-A2', name: 'Poster A2', priceCents: 1800, currency: 'EUR', stock: 20 },
  { sku: 'LAMP-01', name: 'Desk lamp', priceCents: 4900, currency: 'EUR', stock: 5 },
] as const;

/** Adds the sample products that are missing; never touches existing ones (their stock is real). */
export async function seedSampleCatalog(pool: Pool): Promise<string[]> {
  const added: string[] = [];
  for (const p of SAMPLE_CATALOG) {
    const { rowCount } = await pool.query(
      'INSERT INTO inventory.products (sku, name, price_cents, currency, stock) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sku) DO NOTHING',
      [p.sku, p.name, p.priceCents, p.currency, p.stock],
    );
    if (rowCount) added.push(p.sku);
  }
  return added;
}
