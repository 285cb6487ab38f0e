import { bearer, problemType, requestJson, unexpected, type PeerRequest } from './http-json';

export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  /** ISO 4217 code of priceCents. */
  currency: string;
  stock: number;
  reserved: number;
  available: number;
}

export interface ReservationLine {
  sku: string;
  quantity: number;
}

/** The inventory service's record of an order's stock (GET /reservations/{orderId}). */
export interface Reservation {
  orderId: string;
  /** RESERVED, COMMITTED or RELEASED. */
  status: string;
  lines: ReservationLine[];
  createdAt: string;
  updatedAt: string;
}

export type ReserveOutcome =
  | { kind: 'reserved' }
  | { kind: 'insufficient-stock'; sku: string; requested?: number; available?: number }
  | { kind: 'unknown-sku'; sku: string }
  /** The order was released before this reserve ran (it arrived late): nothing was reserved, and nothing ever will be. */
  | { kind: 'order-released' };

export type ReleaseOutcome = 'released' | 'nothing-reserved' | 'already-committed';

/** `order-released`: the order's reservation was released (or the order was released before anything was reserved). */
export type CommitOutcome = 'committed' | 'order-released';

/** Client of the inventory service's HTTP API (services/inventory). */
export class InventoryClient {
  /** `token`: this caller's token for the inventory service (one of its INVENTORY_CALLER_TOKENS; INVENTORY_TOKEN). */
  constructor(private readonly baseUrl: string, private readonly token: string, private readonly timeoutMs = 5_000) {}

  private request(url: string, init: PeerRequest) {
    return requestJson('inventory', url, { ...init, headers: { ...bearer(this.token), ...init.headers } });
  }

  async getProduct(sku: string): Promise<Product | null> {
    const res = await this.request(`${this.baseUrl}/products/${encodeURIComponent(sku)}`, { method: 'GET', timeoutMs: this.timeoutMs });
    if (res.status === 200) return res.body as Product;
    if (res.status === 404) return null;
    throw unexpected('inventory', `GET /products/${sku}`, res);
  }

  /** Creates or updates a product; without `currency` a new product is EUR and an existing one keeps its own. */
  async upsertProduct(sku: string, product: { name: string; priceCents: number; currency?: string; stock: number }): Promise<Product> {
    const res = await this.request(`${this.baseUrl}/products/${encodeURIComponent(sku)}`, { method: 'PUT', body: product, timeoutMs: this.timeoutMs });
    if (res.status === 200 || res.status === 201) return res.body as Product;
    throw unexpected('inventory', `PUT /products/${sku}`, res);
  }

  /** The order's reservation, or null when it has none. */
  async getReservation(orderId: string): Promise<Reservation | null> {
    const res = await this.request(`${this.baseUrl}/reservations/${encodeURIComponent(orderId)}`, { method: 'GET', timeoutMs: this.timeoutMs });
    if (res.status === 200) return res.body as Reservation;
    if (res.status === 404) return null;
    throw unexpected('inventory', `GET /reservations/${orderId}`, res);
  }

  async reserve(orderId: string, lines: ReservationLine[], idempotencyKey: string): Promise<ReserveOutcome> {
    const res = await this.request(`${this.baseUrl}/reservations`, {
      method: 'POST', body: { orderId, lines }, headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    if (res.status === 200 || res.status === 201) return { kind: 'reserved' };
    const body = res.body as { sku?: string; requested?: number; available?: number };
    const type = problemType(res.body);
    if (res.status === 409 && type === 'insufficient-stock') return { kind: 'insufficient-stock', sku: body.sku ?? '?', requested: body.requested, available: body.available };
    if (type === 'unknown-sku') return { kind: 'unknown-sku', sku: body.sku ?? '?' };
    if (res.status === 409 && type === 'reservation-released') return { kind: 'order-released' };
    throw unexpected('inventory', 'POST /reservations', res);
  }

  async release(orderId: string, idempotencyKey: string): Promise<ReleaseOutcome> {
    const res = await this.request(`${this.baseUrl}/reservations/${orderId}/release`, {
      method: 'POST', headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    if (res.status === 200) return 'released';
    if (res.status === 404) return 'nothing-reserved';
    if (res.status === 409 && problemType(res.body) === 'reservation-committed') return 'already-committed';
    throw unexpected('inventory', `POST /reservations/${orderId}/release`, res);
  }

  async commit(orderId: string, idempotencyKey: string): Promise<CommitOutcome> {
    const res = await this.request(`${this.baseUrl}/reservations/${orderId}/commit`, {
      method: 'POST', headers: { 'idempotency-key': idempotencyKey }, timeoutMs: this.timeoutMs,
    });
    if (res.status === 200) return 'committed';
    if (res.status === 409 && problemType(res.body) === 'reservation-released') return 'order-released';
    throw unexpected('inventory', `POST /reservations/${orderId}/commit`, res);
  }
}
