import type { DomainEvent } from '../common/events';

/** What the email says; the address comes from the order store (see email-consumer.ts). */
export interface EmailContent {
  subject: string;
  text: string;
}

function money(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

/** The customer-facing emails: one per confirmed or cancelled order. Null for other events. */
export function emailFor(event: DomainEvent): EmailContent | null {
  const ref = event.orderId.slice(0, 8);
  switch (event.type) {
    case 'OrderConfirmed': {
      const p = event.payload as DomainEvent<'OrderConfirmed'>['payload'];
      return {
        subject: `Your order ${ref} is confirmed`,
        text: `Thank you! Your order ${event.orderId} is confirmed.\nTotal charged: ${money(p.totalCents, p.currency)}.\n`,
      };
    }
    case 'OrderCancelled': {
      const p = event.payload as DomainEvent<'OrderCancelled'>['payload'];
      return {
        subject: `Your order ${ref} was cancelled`,
        text: `Your order ${event.orderId} was cancelled.\nReason: ${p.reason}\n${p.refundedCents
          ? `We have refunded ${money(p.refundedCents, p.currency)} to your payment method.`
          : 'You have not been charged for it.'}\n`,
      };
    }
    default:
      return null;
  }
}

/** Stable per event: a resend after a crash carries the same Message-ID, so it is detectable. */
export function messageIdFor(eventId: string): string {
  return `<${eventId}@order-orchestrator>`;
}
