import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

/**
 * Response headers for an API that answers JSON only (helmet, with an API's settings rather than
 * a web page's): nothing an answer could be made to load or run in a browser (CSP `default-src
 * 'none'`, no framing, no MIME sniffing, no referrer), HSTS for when it is served over TLS, and
 * `Cache-Control: no-store` because answers carry orders and customers' data, which no shared or
 * browser cache should keep.
 */
export function securityHeaders(): RequestHandler {
  const headers = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    xFrameOptions: { action: 'deny' },
  });
  return (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    headers(req, res, next);
  };
}

/**
 * The browser pages (the operator page, the API reference, the sign-in form): the JSON API's CSP
 * widened only to what they load, all from this origin: their scripts and stylesheets (no inline
 * script or style), images (Swagger UI's icons are data: URIs), fetches, and the sign-in form's POST.
 */
export function pageContentSecurityPolicy(inlineStyleHashes: string[] = []): string {
  return [
    "default-src 'none'", "script-src 'self'", ["style-src 'self'", ...inlineStyleHashes.map((h) => `'${h}'`)].join(' '), "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * For a page with a form that posts to this origin (sign-in, sign-out, the codec session):
 * Referrer-Policy `same-origin` instead of `no-referrer`, under which the browser sends the post
 * with `Origin: null`, which the forms refuse (api/same-origin.ts). Other origins still get nothing.
 */
export function letFormsSendTheirOrigin(res: Response): void {
  res.set('Referrer-Policy', 'same-origin');
}

export const pageSecurityHeaders: RequestHandler = (_req, res, next) => {
  res.set('Content-Security-Policy', pageContentSecurityPolicy());
  letFormsSendTheirOrigin(res); // the operator page's sign-out form
  next();
};

/**
 * A page that can load nothing behind a key (the sign-in form) styles itself with one inline
 * <style> block, allowed by its hash alone: `'sha256-…'` of exactly that text.
 */
export function inlineStyleHash(css: string): string {
  return `sha256-${createHash('sha256').update(css).digest('base64')}`;
}
