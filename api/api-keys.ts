import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LEGACY_CLIENT_ID } from '../common/order/workflow-contract';
import type { Db } from '../common/db';
import type { Queryable } from '../common/pg';

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

/** The secret part of a well-formed key (base64url: it may hold or start with '_', so never split the key on it). */
export function secretOf(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[2];
}

export class ApiKeyError extends Error {}

export interface CreatedApiKey {
  keyId: string;
  key: string;
  clientId: string;
  scope: Scope;
}

/** Owners of orders placed before API keys (migration backfill, the old X-Client-Id default): no key may act as them. */
const RESERVED_CLIENT_IDS = new Set([LEGACY_CLIENT_ID, 'anonymous']);

export async function createApiKey(db: Db, clientId: string, scope: Scope = 'shop'): Promise<CreatedApiKey> {
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ApiKeyError(`client id "${clientId}" is not valid: use 1-128 letters, digits and . _ : -`);
  }
  if (RESERVED_CLIENT_IDS.has(clientId)) {
    throw new ApiKeyError(`client id "${clientId}" is reserved (orders from before API keys belong to it); choose another`);
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

/** A stored key as the check needs it. */
interface StoredApiKey {
  clientId: string;
  scope: Scope;
  secretHash: string;
  revokedAt: Date | null;
}

/** Whether `key` (whose id is `keyId`) is the stored one, and not revoked. */
function verified(key: string, keyId: string, row: StoredApiKey | null | undefined): VerifiedApiKey | undefined {
  if (!row || row.revokedAt) return undefined;
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(row.secretHash, 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return undefined;
  return { keyId, clientId: row.clientId, scope: row.scope };
}

/** The client a presented key belongs to, if it is one of ours and not revoked. */
export async function verifyApiKey(db: Db, key: string): Promise<VerifiedApiKey | undefined> {
  const keyId = keyIdOf(key);
  if (!keyId) return undefined;
  return verified(key, keyId, await db.apiKey.findUnique({ where: { id: keyId } }));
}

/** verifyApiKey over node-postgres: the API checks every request's key so, with no ORM in between. */
export async function verifyApiKeyOnPool(pool: Queryable, key: string): Promise<VerifiedApiKey | undefined> {
  const keyId = keyIdOf(key);
  if (!keyId) return undefined;
  const { rows: [row] } = await pool.query<StoredApiKey>({
    name: 'api-key-by-id',
    text: 'SELECT client_id AS "clientId", scope::text AS scope, secret_hash AS "secretHash", revoked_at AS "revokedAt" FROM api_keys WHERE id = $1',
    values: [keyId],
  });
  return verified(key, keyId, row);
}

/** Marks a key used now, at most once a minute (no write per request). */
export async function touchApiKey(pool: Queryable, keyId: string): Promise<void> {
  await pool.query({
    name: 'api-key-touch',
    text: `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    values: [keyId],
  });
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
