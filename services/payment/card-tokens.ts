import { createHash } from 'node:crypto';

export type DeclineCode = 'card_declined' | 'invalid_token' | 'authentication_failed';

export type CardVerdict =
  | { kind: 'approve' }
  | { kind: 'requires_confirmation' }
  | { kind: 'decline'; declineCode: DeclineCode };

export interface IdentifiedCard {
  /** What kind of test card it was; safe to store and show. */
  label: string;
  /** sha256 of the token, to tell cards apart without keeping the token. */
  fingerprint: string;
  verdict: CardVerdict;
}

/** The processor's test cards, like a real processor's sandbox. */
const TEST_CARDS = new Map<string, { label: string; verdict: CardVerdict }>([
  ['tok_visa', { label: 'visa', verdict: { kind: 'approve' } }],
  ['tok_chargeDeclined', { label: 'test-declined', verdict: { kind: 'decline', declineCode: 'card_declined' } }],
  ['tok_threeDSecure', { label: 'test-3ds', verdict: { kind: 'requires_confirmation' } }],
]);

export function identifyCard(token: string): IdentifiedCard {
  const fingerprint = createHash('sha256').update(token).digest('hex');
  const known = TEST_CARDS.get(token);
  if (known) return { ...known, fingerprint };
  return { label: 'unknown', fingerprint, verdict: { kind: 'decline', declineCode: 'invalid_token' } };
}
