import { cookieValue, issueSession, verifySession } from '../../api/browser-session';
import type { Db } from '../../common/db';

/**
 * Browser session tokens (api/browser-session.ts), pure logic over an in-memory stand-in for the
 * api_keys table (InMemoryApiKeys): who a token stands for, and every way one must be refused.
 * Real cookies through the real API: test/system/operator-page.test.ts, test/e2e/payload-encryption.test.ts.
 */
class InMemoryApiKeys {
  rows = new Map<string, { id: string; clientId: string; scope: 'shop' | 'operator'; secretHash: string; revokedAt: Date | null }>();
  asDb(): Db {
    return { apiKey: { findUnique: async ({ where }: { where: { id: string } }) => this.rows.get(where.id) ?? null } } as unknown as Db;
  }
}

describe('browser session tokens (pure logic)', () => {
  const keys = new InMemoryApiKeys();
  const db = keys.asDb();
  beforeEach(() => {
    keys.rows.clear();
    keys.rows.set('0123456789abcdef', { id: '0123456789abcdef', clientId: 'ops', scope: 'operator', secretHash: 'ab'.repeat(32), revokedAt: null });
  });

  it('stand for the key they were issued for, and never contain its hash', async () => {
    const token = (await issueSession(db, 'operator-session', '0123456789abcdef', 60_000))!;
    expect(token).toMatch(/^0123456789abcdef\.\d{13}\.[A-Za-z0-9_-]{43}$/);
    expect(token).not.toContain('abab');
    expect(await verifySession(db, 'operator-session', token)).toEqual({ keyId: '0123456789abcdef', clientId: 'ops', scope: 'operator' });
  });

  it('are refused for another purpose, altered, expired, or once the key is revoked or gone', async () => {
    const token = (await issueSession(db, 'operator-session', '0123456789abcdef', 60_000))!;
    expect(await verifySession(db, 'codec-session', token)).toBeUndefined();
    const [id, expires, mac] = token.split('.');
    expect(await verifySession(db, 'operator-session', `${id}.${Number(expires) + 1}.${mac}`)).toBeUndefined();
    expect(await verifySession(db, 'operator-session', `${id}.${expires}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await verifySession(db, 'operator-session', `${id}.${Date.now() - 1}.${mac}`)).toBeUndefined();
    expect(await verifySession(db, 'operator-session', (await issueSession(db, 'operator-session', '0123456789abcdef', -1))!)).toBeUndefined();
    keys.rows.get('0123456789abcdef')!.revokedAt = new Date();
    expect(await verifySession(db, 'operator-session', token)).toBeUndefined();
    expect(await issueSession(db, 'operator-session', '0123456789abcdef', 60_000)).toBeUndefined();
    keys.rows.clear();
    expect(await verifySession(db, 'operator-session', token)).toBeUndefined();
  });

  it('read one cookie by name from a Cookie header', () => {
    expect(cookieValue('a=1; operator_session=x.y%2Ez; codec_session=c', 'operator_session')).toBe('x.y.z');
    expect(cookieValue('xoperator_session=1', 'operator_session')).toBeUndefined();
    expect(cookieValue(undefined, 'operator_session')).toBeUndefined();
  });
});
