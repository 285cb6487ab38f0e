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

/** What an email address in free text is replaced with by `redactEmailAddresses`. */
export const REDACTED_EMAIL = '[email redacted]';

// A quoted local part ("jane doe"@…) or an unquoted one, then a domain of one or more labels
// (`jane@localhost` too); letters of any script, as internationalised addresses have them.
const EMAIL_ADDRESS = /(?:"[^"\r\n]*"|[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]+)@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*/gu;

/**
 * Free text that may quote an address (an error from another system, a dead letter's reason),
 * with every email address in it replaced by REDACTED_EMAIL. For text that leaves the process
 * that sent the mail: logs, dead letters, the operator inspection.
 */
export function redactEmailAddresses(text: string): string {
  return text.replace(EMAIL_ADDRESS, REDACTED_EMAIL);
}
