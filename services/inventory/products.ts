import { Router } from 'express';
import type { Pool } from 'pg';
import { problem } from '../../common/http';
import { productBodySchema, skuSchema } from './validation';

interface ProductRow {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  stock: number;
  reserved: number;
}

export function productView(row: ProductRow) {
  return {
    sku: row.sku,
    name: row.name,
    priceCents: row.price_cents,
    currency: row.currency,
    stock: row.stock,
    reserved: row.reserved,
    available: row.stock - row.reserved,
  };
}

const PRODUCT_COLUMNS = 'sku, name, price_cents, currency, stock, reserved';

export function productRoutes(pool: Pool): Router {
  const router = Router();

  router.get('/products', async (_req, res) => {
    const { rows } = await pool.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM inventory.products ORDER BY sku`);
    res.json({ items: rows.map(productView) });
  });

  router.get('/products/:sku', async (req, res) => {
    const sku = skuSchema.parse(req.params.sku);
    const { rows } = await pool.query<ProductRow>({ name: 'inventory-product', text: `SELECT ${PRODUCT_COLUMNS} FROM inventory.products WHERE sku = $1`, values: [sku] });
    const row = rows[0];
    if (!row) throw problem(404, 'product-not-found', 'Product not found', `No product with sku "${sku}"; create it with PUT /products/${sku}.`, { sku });
    res.json(productView(row));
  });

  // Sets stock on hand (and name, price, currency); `reserved` belongs to reservations and is never touched here.
  router.put('/products/:sku', async (req, res) => {
    const sku = skuSchema.parse(req.params.sku);
    const body = productBodySchema.parse(req.body ?? {});
    const upserted = await pool.query<ProductRow>(
      `INSERT INTO inventory.products (sku, name, price_cents, currency, stock) VALUES ($1, $2, $3, coalesce($5, 'EUR'), $4)
       ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price_cents = EXCLUDED.price_cents,
         currency = coalesce($5, inventory.products.currency), stock = EXCLUDED.stock, updated_at = now()
         WHERE inventory.products.reserved <= EXCLUDED.stock
       RETURNING ${PRODUCT_COLUMNS}`,
      [sku, body.name, body.priceCents, body.stock, body.currency ?? null]);
    const row = upserted.rows[0];
    if (row) return void res.json(productView(row));

    const current = await pool.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM inventory.products WHERE sku = $1`, [sku]);
    const reserved = current.rows[0]?.reserved ?? 0;
    throw problem(409, 'stock-below-reserved', 'Stock below reserved quantity',
      `Cannot set stock of "${sku}" to ${body.stock}: ${reserved} units are reserved by open orders. Set stock to at least ${reserved}, or release or commit those reservations first.`,
      { sku, requestedStock: body.stock, reserved });
  });

  return router;
}
