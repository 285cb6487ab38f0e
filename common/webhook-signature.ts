import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * The timestamp is signed too, so a captured request cannot be replayed after the tolerance window.
 * Receivers must verify against the raw request bytes, before any JSON parsing.
 * Both sides use this module: the payment service signs, our API checks.
 */
export const PAYMENT_SIGNATURE_HEADER = 'Payment-Signature';

export function webhookSignatureHex(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** Returns the value for the Payment-Signature header. */
export function signWebhook(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return `t=${timestamp},v1=${webhookSignatureHex(secret, timestamp, rawBody)}`;
}

export type SignatureCheck = { valid: true; timestamp: number } | { valid: false; reason: string };

/**
 * Like verifyWebhookSignature, but says why a signature was refused (for logs and error details).
 * `secrets` may be several during a rotation (the current and the previous one): a signature made
 * with any of them is accepted.
 */
export function checkWebhookSignature(
  secrets: string | readonly string[],
  header: string | undefined,
  rawBody: string | Buffer,
  toleranceSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return { valid: false, reason: `the ${PAYMENT_SIGNATURE_HEADER} header is missing` };
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([k]) => k === 't').map(([, v]) => v ?? '');
  // Several v1 entries are allowed so a sender can sign with an old and a new secret during rotation.
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0]!)) return { valid: false, reason: 'the header has no single numeric t=<unix seconds>' };
  if (signatures.length === 0) return { valid: false, reason: 'the header has no v1=<signature>' };
  const timestamp = Number(timestamps[0]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return { valid: false, reason: `the signature timestamp is ${nowSeconds - timestamp}s away from now, beyond the ${toleranceSeconds}s tolerance` };
  }
  const expected = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => Buffer.from(webhookSignatureHex(secret, timestamp, rawBody), 'hex'));
  const matches = signatures.some((hex) => {
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
    const given = Buffer.from(hex, 'hex');
    return expected.some((e) => timingSafeEqual(given, e));
  });
  return matches ? { valid: true, timestamp } : { valid: false, reason: 'no v1 signature matches the body (wrong secret, or the body was altered or re-serialized)' };
}

/** True only if the header carries a valid signature of exactly these bytes made within the tolerance. */
export function verifyWebhookSignature(
  secrets: string | readonly string[],
  header: string | undefined,
  rawBody: string | Buffer,
  toleranceSeconds: number,
  nowSeconds?: number,
): boolean {
  return checkWebhookSignature(secrets, header, rawBody, toleranceSeconds, nowSeconds).valid;
}
