import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../common/db';
import type { VerifiedApiKey } from './api-keys';

/**
 * The codec server's browser session (README, "Web UI: decoded payloads"): a cookie that names an
 * operator key and an expiry, signed with that key's stored hash, so the cookie never holds the key
 * itself, cannot be forged without the database, ends at its expiry and dies with the key's
 * revocation. Format: `<keyId>.<expiresAtMs>.<base64url HMAC-SHA256>`.
 */
const TOKEN = /^([A-Za-z0-9_-]{1,64})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

const signature = (secretHash: string, keyId: string, expiresAtMs: number) =>
  createHmac('sha256', Buffer.from(secretHash, 'hex')).update(`codec-session.${keyId}.${expiresAtMs}`).digest('base64url');

/** A session token for a key just verified; undefined if the key has gone since. */
export async function issueCodecSession(db: Db, keyId: string, ttlMs: number): Promise<string | undefined> {
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || row.revokedAt) return undefined;
  const expiresAtMs = Date.now() + ttlMs;
  return `${keyId}.${expiresAtMs}.${signature(row.secretHash, keyId, expiresAtMs)}`;
}

/** The key a session token stands for, if the token is ours, not expired, and the key not revoked. */
export async function verifyCodecSession(db: Db, token: string): Promise<VerifiedApiKey | undefined> {
  const [, keyId, expires, mac] = TOKEN.exec(token) ?? [];
  if (!keyId || !expires || !mac || Number(expires) <= Date.now()) return undefined;
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || row.revokedAt) return undefined;
  const expected = Buffer.from(signature(row.secretHash, keyId, Number(expires)));
  const presented = Buffer.from(mac);
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
  return { keyId, clientId: row.clientId, scope: row.scope };
}
