/**
 * Erased personal data. `ops customer erase` replaces a customer's email address in the order
 * store (orders.customer_email) and in the sent-mail log (sent_emails.recipient) with this
 * tombstone: an address under the reserved `.invalid` top-level domain (RFC 2606) that no mail
 * server accepts and that says nothing about the customer (no hash: a hash of an address is still
 * personal data). Readers check `isErasedEmail` before using an address.
 */
export const ERASED_EMAIL = 'erased@erased.invalid';

export function isErasedEmail(address: string): boolean {
  return address === ERASED_EMAIL;
}
