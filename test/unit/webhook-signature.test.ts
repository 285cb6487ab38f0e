import { checkWebhookSignature, signWebhook, verifyWebhookSignature } from '../../common/webhook-signature';

describe('webhook signatures with a rotating secret (pure logic)', () => {
  const now = 1_800_000_000;
  const body = JSON.stringify({ id: 'evt-1', type: 'payment.confirmed' });
  const rotating = ['the-new-secret', 'the-old-secret'];

  it('accepts a signature made with the current or with the previous secret', () => {
    expect(checkWebhookSignature(rotating, signWebhook('the-new-secret', now, body), body, 300, now)).toEqual({ valid: true, timestamp: now });
    expect(checkWebhookSignature(rotating, signWebhook('the-old-secret', now, body), body, 300, now)).toEqual({ valid: true, timestamp: now });
  });

  it('refuses a signature made with any other secret, saying why', () => {
    expect(checkWebhookSignature(rotating, signWebhook('a-wrong-secret', now, body), body, 300, now))
      .toEqual({ valid: false, reason: expect.stringMatching(/no v1 signature matches the body \(wrong secret/) });
  });

  it('refuses the previous secret once it is no longer configured (rotation finished)', () => {
    expect(verifyWebhookSignature(['the-new-secret'], signWebhook('the-old-secret', now, body), body, 300, now)).toBe(false);
    expect(verifyWebhookSignature('the-new-secret', signWebhook('the-old-secret', now, body), body, 300, now)).toBe(false);
  });

  it('still checks the body and the timestamp against every secret', () => {
    const header = signWebhook('the-old-secret', now, body);
    expect(verifyWebhookSignature(rotating, header, body.replace('evt-1', 'evt-2'), 300, now)).toBe(false);
    expect(checkWebhookSignature(rotating, header, body, 300, now + 301)).toMatchObject({ valid: false, reason: expect.stringMatching(/tolerance/) });
  });
});
