import type { InventoryClient } from '../clients/inventory-client';
import type { PaymentClient } from '../clients/payment-client';
import type { PaymentRecordView, Readout, ReservationRecordView } from './inspection';

/**
 * The peers' records of an order, read through their HTTP APIs (they own their schemas): the
 * inventory reservation (GET /reservations/{orderId}) and the payment (GET /payments?orderId=).
 * A peer that cannot be read (down, or this caller's token is not allowed) is reported, not thrown.
 */
const why = (err: unknown) => (err as Error).message;

export async function readReservation(inventory: InventoryClient, orderId: string): Promise<Readout<ReservationRecordView | null>> {
  try {
    const reservation = await inventory.getReservation(orderId);
    return reservation && { status: reservation.status, lines: reservation.lines };
  } catch (err) {
    return { unreadable: `inventory: ${why(err)}` };
  }
}

export async function readPayment(payment: PaymentClient, orderId: string): Promise<Readout<PaymentRecordView | null>> {
  try {
    const record = await payment.forOrder(orderId);
    if (!record.payment) return null;
    return {
      paymentId: record.payment.paymentId, status: record.payment.status, amountCents: record.payment.amountCents, currency: record.payment.currency,
      operations: record.operations.map((o) => ({ kind: o.kind, outcome: o.outcome, at: o.createdAt })),
    };
  } catch (err) {
    return { unreadable: `payment: ${why(err)}` };
  }
}
