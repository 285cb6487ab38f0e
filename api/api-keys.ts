import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../common/db';

/**
 * API keys: created and revoked by an operator (`npm run ops -- apikey ...`), checked by the API
 * (api/auth.ts). A key reads `ook_<id>_<secret>`: the id (16 hex digits) is not secret, finds the
 * row and names the key in listings and logs; the secret is 32 random bytes. Only the key's
 * SHA-256 is stored (a random 256-bit secret needs no slow hash), so a database dump gives no key.
 */
export const API_SCOPES = ['shop', 'operator'] as const;
export type Scope = (typeof API_SCOPES)[number];

/** Who a client is: the letters an order's client_id and an Idempotency-Key's scope are made of. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const KEY_PATTERN = /^ook_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID_PATTERN = /^(?:ook_)?([0-9a-f]{16})$/;

/** An operator may do all a shop may, and more. */
export function scopesOf(scope: Scope): Scope[] {
  return scope === 'operator' ? ['shop', 'operator'] : ['shop'];
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key and its id. */
export function generateApiKey(): { keyId: string; key: string } {
  const keyId = randomBytes(8).toString('hex');
  return { keyId, key: `ook_${keyId}_${randomBytes(32).toString('base64url')}` };
}

/** The id inside a well-formed key; undefined for anything else. */
export function keyIdOf(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

export class ApiKeyError extends Error {}

export interface CreatedApiKey {
  keyId: string;
  key: string;
  clientId: string;
  scope: Scope;
}

export async function createApiKey(db: Db, clientId: string, scope: Scope = 'shop'): Promise<CreatedApiKey> {
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ApiKeyError(`client id "${clientId}" is not valid: use 1-128 letters, digits and . _ : -`);
  }
  if (!API_SCOPES.includes(scope)) throw new ApiKeyError(`scope "${scope}" is not one of ${API_SCOPES.join(', ')}`);
  const { keyId, key } = generateApiKey();
  await db.apiKey.create({ data: { id: keyId, clientId, scope, secretHash: hashApiKey(key) } });
  return { keyId, key, clientId, scope };
}

export interface VerifiedApiKey {
  keyId: string;
  clientId: string;
  scope: Scope;
}

/** The client a presented key belongs to, if it is one of ours and not revoked. */
export async function verifyApiKey(db: Db, key: string): Promise<VerifiedApiKey | undefined> {
  const keyId = keyIdOf(key);
  if (!keyId) return undefined;
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || row.revokedAt) return undefined;
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(row.secretHash, 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return undefined;
  return { keyId, clientId: row.clientId, scope: row.scope };
}

/** Marks a key used now, at most once a minute (no write per request). */
export async function touchApiKey(db: Db, keyId: string): Promise<void> {
  await db.$executeRaw`UPDATE api_keys SET last_used_at = now()
    WHERE id = ${keyId} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`;
}

/**
 * Revokes a key given by its id (`ook_<id>` or the 16 hex digits) or the whole key. Requests with
 * it are refused from then on. Revoking a revoked key changes nothing and says when it was revoked.
 */
export async function revokeApiKey(db: Db, keyOrId: string): Promise<{ keyId: string; clientId: string; revokedAt: Date; alreadyRevoked: boolean }> {
  const keyId = KEY_ID_PATTERN.exec(keyOrId)?.[1] ?? keyIdOf(keyOrId);
  if (!keyId) throw new ApiKeyError(`"${keyOrId.slice(0, 24)}" is neither an API key nor a key id (ook_ and 16 hex digits); see apikey list`);
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row) throw new ApiKeyError(`no API key with id ${keyId}; see apikey list`);
  if (row.revokedAt) return { keyId, clientId: row.clientId, revokedAt: row.revokedAt, alreadyRevoked: true };
  const updated = await db.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
  return { keyId, clientId: row.clientId, revokedAt: updated.revokedAt!, alreadyRevoked: false };
}

export async function listApiKeys(db: Db, clientId?: string) {
  return db.apiKey.findMany({
    where: clientId ? { clientId } : {},
    select: { id: true, clientId: true, scope: true, createdAt: true, lastUsedAt: true, revokedAt: true },
    orderBy: [{ clientId: 'asc' }, { createdAt: 'asc' }],
  });
}
