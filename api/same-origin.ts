import type { RequestHandler } from 'express';
import { problem } from '../common/http';

/**
 * Login CSRF: the browser forms that set or clear a session cookie (POST /operator/login,
 * POST /operator/logout, POST /codec/session) take only posts from their own origin.
 * SameSite=Strict keeps our cookie off another site's requests, but not another site's form from
 * signing the browser in with the attacker's key (whatever the operator then does happens in
 * that session) or signing it out. Browsers say where a request comes from: `Sec-Fetch-Site` must
 * be absent or `same-origin`, and an `Origin` header, if sent, must name this request's host.
 * A client that sends neither (curl, scripts) is not a browser page and is let through.
 */
export function crossSiteReason(req: { get(header: string): string | undefined }): string | undefined {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') return `the browser says this post comes from a ${site} page (Sec-Fetch-Site)`;
  const origin = req.get('origin');
  if (origin !== undefined && !isOriginOf(origin, req.get('host'))) return `its Origin (${origin.slice(0, 100)}) is not this host`;
  return undefined;
}

/** Whether `origin` (`https://ops.example:8443`) names `host` (the Host header), default ports aside. */
function isOriginOf(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const from = new URL(origin); // `null` (a sandboxed or opaque origin) is no URL: refused
    if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** Refuses a cross-site post with 403 `cross-site-request` before anything else reads it. */
export const sameOriginPostsOnly: RequestHandler = (req, _res, next) => {
  const why = crossSiteReason(req);
  if (!why) return next();
  next(problem(403, 'cross-site-request', 'Cross-site request refused', `This form only takes posts from its own page: ${why}. Open ${req.originalUrl.split('?')[0]} on this host and submit it there.`));
};
