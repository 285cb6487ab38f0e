import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Db } from '../common/db';
import { problem } from '../common/http';
import type { Logger } from '../common/logger';
import { scopesOf, type VerifiedApiKey } from './api-keys';
import type { AuthenticatedClient } from './auth';

/**
 * Browser sessions for the pages a browser opens without an Authorization header: the codec
 * server (cookie `codec_session`, Path=/codec) and the operator page and API reference (cookie
 * `operator_session`, api/routes/operator-page.ts). A session is a cookie that names an API key
 * and an expiry, signed with that key's stored hash: it never holds the key itself, cannot be
 * forged without the database, ends at its expiry and dies with the key's revocation. Each kind
 * signs with its own purpose, so one kind's cookie is never accepted as the other.
 * Token format: `<keyId>.<expiresAtMs>.<base64url HMAC-SHA256>`.
 */
export type SessionPurpose = 'codec-session' | 'operator-session';

const TOKEN = /^([A-Za-z0-9_-]{1,64})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

const signature = (purpose: SessionPurpose, secretHash: string, keyId: string, expiresAtMs: number) =>
  createHmac('sha256', Buffer.from(secretHash, 'hex')).update(`${purpose}.${keyId}.${expiresAtMs}`).digest('base64url');

/** A session token for a key just verified; undefined if the key has gone since. */
export async function issueSession(db: Db, purpose: SessionPurpose, keyId: string, ttlMs: number): Promise<string | undefined> {
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || row.revokedAt) return undefined;
  const expiresAtMs = Date.now() + ttlMs;
  return `${keyId}.${expiresAtMs}.${signature(purpose, row.secretHash, keyId, expiresAtMs)}`;
}

/** The key a session token stands for, if the token is ours, for this purpose, not expired, and the key not revoked. */
export async function verifySession(db: Db, purpose: SessionPurpose, token: string): Promise<VerifiedApiKey | undefined> {
  const [, keyId, expires, mac] = TOKEN.exec(token) ?? [];
  if (!keyId || !expires || !mac || Number(expires) <= Date.now()) return undefined;
  const row = await db.apiKey.findUnique({ where: { id: keyId } });
  if (!row || row.revokedAt) return undefined;
  const expected = Buffer.from(signature(purpose, row.secretHash, keyId, Number(expires)));
  const presented = Buffer.from(mac);
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
  return { keyId, clientId: row.clientId, scope: row.scope };
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export interface SessionCookie {
  name: string;
  purpose: SessionPurpose;
  /** The paths the browser sends it to (one Set-Cookie each). */
  paths: string[];
  maxAgeMs: number;
}

/**
 * Authenticates a request that has no Authorization header as the key its session cookie was
 * issued for; authenticate() (api/auth.ts) then lets it through. Without a valid cookie nothing
 * happens, and authenticate() answers 401 as for any caller without a key.
 */
export function sessionFromCookie({ db, logger }: { db: Db; logger: Logger }, cookie: SessionCookie): RequestHandler {
  return async (req, res, next) => {
    const token = req.headers.authorization === undefined ? cookieValue(req.headers.cookie, cookie.name) : undefined;
    if (!token) return next();
    try {
      const verified = await verifySession(db, cookie.purpose, token);
      if (verified) res.locals.client = { clientId: verified.clientId, keyId: verified.keyId, scopes: scopesOf(verified.scope) } satisfies AuthenticatedClient;
      next();
    } catch (err) {
      logger.error({ err }, `could not check a ${cookie.purpose}`);
      next(problem(503, 'authentication-unavailable', 'Authentication unavailable', 'The session could not be checked just now. Retry shortly.'));
    }
  };
}

/**
 * Signs the browser in as a key just verified: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page makes the browser send it), Secure over HTTPS. False if the key was revoked meanwhile.
 */
export async function startSession(db: Db, res: Response, cookie: SessionCookie, keyId: string, secure: boolean): Promise<boolean> {
  const token = await issueSession(db, cookie.purpose, keyId, cookie.maxAgeMs);
  if (!token) return false;
  for (const path of cookie.paths) res.cookie(cookie.name, token, { httpOnly: true, sameSite: 'strict', secure, path, maxAge: cookie.maxAgeMs });
  return true;
}

/** Signs the browser out: the cookie cleared at every path it was set for (same attributes, or the browser keeps it). */
export function endSession(res: Response, cookie: SessionCookie, secure: boolean): void {
  for (const path of cookie.paths) res.clearCookie(cookie.name, { httpOnly: true, sameSite: 'strict', secure, path });
}
