import { dirname, join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { problem, validationProblem } from '../../common/http';
import { authenticate, authenticatedClient, requireScope } from '../auth';
import { endSession, startSession, type SessionCookie } from '../browser-session';
import type { ApiDeps } from '../deps';
import { dashboardQuery, readDashboard } from '../operator-dashboard';
import { inlineStyleHash, letFormsSendTheirOrigin, pageContentSecurityPolicy, pageSecurityHeaders } from '../security-headers';
import { sameOriginPostsOnly } from '../same-origin';
import { htmlPage, staticAssets } from '../static-assets';

/**
 * The operator page (GET /operator, operators only) and its data (GET /operator/dashboard); the
 * page is static HTML, our own script and chart.js from node_modules (README, "Operator page").
 *
 * A browser cannot send a bearer key when it navigates, so /operator/login takes a key once and
 * sets the `operator_session` cookie (api/browser-session.ts) for the operator page, the API
 * reference (/docs) and the document it loads (/openapi.json). Any valid key may sign in; the
 * pages then check its scope as for a bearer key (a shop's session gets 403 here, the reference).
 * A bearer key works on every page directly too. POST /operator/logout clears the cookie. Both
 * posts are refused from another site's page (api/same-origin.ts: login CSRF).
 */
export const PAGES_DIR = join(__dirname, '..', 'operator-page');
const CHART_JS_DIR = dirname(require.resolve('chart.js'));

/** The files the operator page loads, by the name in its URL (/operator/assets/<name>). */
export const OPERATOR_PAGE_ASSETS: Readonly<Record<string, string>> = {
  'operator.js': join(PAGES_DIR, 'operator.js'),
  'pages.css': join(PAGES_DIR, 'pages.css'),
  'chart.umd.min.js': join(CHART_JS_DIR, 'chart.umd.min.js'),
};

export const OPERATOR_SESSION: SessionCookie = {
  name: 'operator_session', purpose: 'operator-session', paths: ['/operator', '/docs', '/openapi.json'], maxAgeMs: 8 * 3_600_000,
};

/** Where the sign-in form may send a browser back to. */
export const SIGN_IN_TARGETS = ['/operator', '/docs'] as const;
const signInTarget = z.enum(SIGN_IN_TARGETS).catch('/operator');

/**
 * Open (mounted before authentication, like liveness): the sign-in form, which holds no data, and
 * its POST; a browser that opens a page without a credential is sent to the form.
 */
export function operatorSignInRouter(deps: Pick<ApiDeps, 'db' | 'pool' | 'logger' | 'codec'>): Router {
  const router = Router();
  router.get('/operator/login', (req, res) => {
    res.set('Content-Security-Policy', SIGN_IN_CSP);
    letFormsSendTheirOrigin(res);
    res.type('html').send(signInForm(signInTarget.parse(req.query.next)));
  });
  router.post('/operator/login', sameOriginPostsOnly, express.urlencoded({ extended: false, limit: '4kb' }), (req, res, next) => {
    res.locals.signInTarget = signInTarget.parse(req.body?.next);
    const key = typeof req.body?.key === 'string' ? req.body.key.trim() : '';
    req.headers.authorization = `Bearer ${key}`;
    next();
  }, authenticate(deps), async (req, res, next) => {
    let signedIn: boolean;
    try {
      signedIn = await startSession(deps.db, res, OPERATOR_SESSION, authenticatedClient(res).keyId, deps.codec.secureCookie || req.secure);
    } catch (err) {
      return next(err);
    }
    if (!signedIn) return next(problem(401, 'invalid-api-key', 'Invalid API key', 'The key was revoked a moment ago.'));
    res.redirect(303, res.locals.signInTarget as string);
  });
  // No key needed: it only clears this browser's cookie (a revoked key's session must be able to leave too).
  router.post('/operator/logout', sameOriginPostsOnly, (req, res) => {
    endSession(res, OPERATOR_SESSION, deps.codec.secureCookie || req.secure);
    res.redirect(303, '/operator/login');
  });
  return router;
}

/** Before authenticate(): a browser navigating to a page without a credential goes to the sign-in form instead of a 401. */
export const signInRedirect: RequestHandler = (req, res, next) => {
  const page = SIGN_IN_TARGETS.find((p) => p === `${req.baseUrl}${req.path}`.replace(/\/$/, ''));
  // Only a client that prefers HTML (a browser's navigation); `*/*` (curl, API clients, scanners) gets the 401.
  const prefersHtml = req.accepts(['application/problem+json', 'text/html']) === 'text/html';
  if (!page || req.method !== 'GET' || res.locals.client || req.headers.authorization !== undefined || !prefersHtml) return next();
  res.redirect(303, `/operator/login?next=${encodeURIComponent(page)}`);
};

export function operatorPageRouter({ db }: Pick<ApiDeps, 'db'>): Router {
  const router = Router();
  const operator = requireScope('operator');
  router.get('/operator', operator, pageSecurityHeaders, htmlPage(join(PAGES_DIR, 'operator.html')));
  router.get('/operator/assets/:file', operator, staticAssets(OPERATOR_PAGE_ASSETS));
  router.get('/operator/dashboard', operator, async (req, res) => {
    const q = dashboardQuery.safeParse(req.query);
    if (!q.success) throw validationProblem(q.error, 'query');
    res.json(await readDashboard(db, q.data.days));
  });
  return router;
}

const SIGN_IN_STYLE = `body{margin:0;font:14px/1.5 system-ui,sans-serif;background:#f4f6f8;color:#1f2933}
main{max-width:560px;margin:12vh auto;background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:24px 28px}
h1{font-size:20px;margin:0 0 8px}p{color:#52606d}form{display:flex;gap:8px;margin-top:16px}
input[name=key]{flex:1;padding:8px;border:1px solid #cbd2d9;border-radius:4px;font:inherit}
button{padding:8px 16px;border:0;border-radius:4px;background:#2f6fb3;color:#fff;font:inherit;cursor:pointer}`;
const SIGN_IN_CSP = pageContentSecurityPolicy([inlineStyleHash(SIGN_IN_STYLE)]);

const signInForm = (next: (typeof SIGN_IN_TARGETS)[number]) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Sign in · Order orchestrator</title>
<style>${SIGN_IN_STYLE}</style></head>
<body><main>
<h1>Order orchestrator: sign in</h1>
<p>Paste an API key (<code>npm run dev</code> prints one). The operator page needs an operator key, the API reference any key.
This browser stays signed in for 8 hours, or until the key is revoked.</p>
<form method="post" action="/operator/login">
<input type="hidden" name="next" value="${next}">
<input name="key" type="password" autocomplete="off" required aria-label="API key" placeholder="ook_…"> <button type="submit">Sign in</button>
</form>
</main></body></html>
`;
