import cors from 'cors';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { problem } from '../../common/http';
import { PayloadDecryptionError, payloadFromJson, payloadToJson } from '../../common/temporal-codec';
import { authenticatedClient } from '../auth';
import { sessionFromCookie, startSession, type SessionCookie } from '../browser-session';
import type { ApiDeps } from '../deps';
import { sameOriginPostsOnly } from '../same-origin';
import { letFormsSendTheirOrigin } from '../security-headers';

/**
 * Temporal codec server (https://docs.temporal.io/codec-server), mounted at /codec: the Web UI and
 * `temporal … --codec-endpoint` POST `{payloads:[{metadata:{k:<base64>}, data:<base64>}]}` (proto
 * JSON) to /codec/decode or /codec/encode with `X-Namespace`, and get the same shape back.
 *
 * The Web UI calls from its own origin, so CORS allows TEMPORAL_UI_ORIGIN; preflights carry no
 * credentials and are answered before `authorize`. An operator's browser authenticates with
 * `Authorization: Bearer <operator key>` (the UI's "Pass access token", through an SSO gateway
 * in production) or with the session cookie set by /codec/session ("Include cross-origin
 * credentials"; dev). See README, "Web UI: decoded payloads".
 */
export interface CodecRouterOptions {
  /** Lets only operators through, e.g. `[authenticate(deps), requireScope('operator')]`. */
  authorize: RequestHandler[];
}

export const CODEC_SESSION_COOKIE = 'codec_session';
const SESSION_MAX_AGE_MS = 8 * 3_600_000;
const codecSession: SessionCookie = { name: CODEC_SESSION_COOKIE, purpose: 'codec-session', paths: ['/codec'], maxAgeMs: SESSION_MAX_AGE_MS };

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64'); // standard or URL-safe
export const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })).max(10_000),
});

export function codecRouter({ db, logger, codec: { codec, namespace, uiOrigins, secureCookie } }: Pick<ApiDeps, 'codec' | 'db' | 'logger'>, { authorize }: CodecRouterOptions): Router {
  const router = Router();
  router.use(cors({
    origin: uiOrigins, methods: ['POST'], credentials: true, maxAge: 600,
    allowedHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
  }));
  // Histories can hold large payloads (Temporal allows 2 MB each): a larger limit than the API's.
  // Bodies are parsed only for a caller already let through: nothing is read for one without a key.
  const payloadsJson = express.json({ limit: '4mb' });

  const convert = (direction: 'encode' | 'decode'): RequestHandler => async (req, res, next) => {
    const asked = req.get('x-namespace');
    if (asked !== undefined && asked !== namespace) {
      return next(problem(400, 'codec-namespace-unknown', 'Unknown namespace', `This codec server serves the namespace "${namespace}", not "${asked}".`));
    }
    const body = payloadsBody.parse(req.body ?? {});
    try {
      const converted = await codec[direction](body.payloads.map(payloadFromJson));
      res.json({ payloads: converted.map(payloadToJson) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) return next(problem(422, 'payload-not-decodable', 'Payload cannot be decoded', err.message));
      next(err);
    }
  };
  /** A browser's session cookie (no Authorization header) authenticates the request as the key it was issued for. */
  const fromSessionCookie = sessionFromCookie({ db, logger }, codecSession);
  const guarded = [fromSessionCookie, ...authorize];
  router.route('/decode').post(guarded, payloadsJson, convert('decode')).all(methodNotAllowed);
  router.route('/encode').post(guarded, payloadsJson, convert('encode')).all(methodNotAllowed);

  // Session for browsers that cannot send a bearer token (dev: the UI has no login): the operator
  // pastes an operator key once; the UI then sends the cookie with "Include cross-origin credentials".
  router.get('/session', (_req, res) => {
    letFormsSendTheirOrigin(res);
    res.type('html').send(SESSION_FORM);
  });
  // Only from the form above, on this origin (api/same-origin.ts: login CSRF).
  router.post('/session', sameOriginPostsOnly, express.urlencoded({ extended: false, limit: '4kb' }), (req, _res, next) => {
    const key = typeof req.body?.key === 'string' ? req.body.key.trim() : '';
    req.headers.authorization = `Bearer ${key}`;
    next();
  }, ...authorize, async (req, res, next) => {
    // The cookie names the key and is signed with its stored hash; it never holds the key (api/browser-session.ts).
    let signedIn: boolean;
    try {
      signedIn = await startSession(db, res, codecSession, authenticatedClient(res).keyId, secureCookie || req.secure);
    } catch (err) {
      return next(err);
    }
    if (!signedIn) return next(problem(401, 'invalid-api-key', 'Invalid API key', 'The key was revoked a moment ago.'));
    const endpoint = `${req.protocol}://${req.get('host')}${req.baseUrl}`;
    res.type('html').send(`<!doctype html><title>Codec session</title><p>Signed in for 8 hours. In the Temporal Web UI's <b>Codec Server</b> settings, enter <code>${escapeHtml(endpoint)}</code> as this browser's endpoint, turn on <b>Include cross-origin credentials</b>, and reload.</p>`);
  });
  router.route('/session').all(methodNotAllowed);
  return router;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const methodNotAllowed: RequestHandler = (req, res, next) => {
  res.set('allow', req.path === '/session' ? 'GET, POST' : 'POST, OPTIONS');
  next(problem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not allowed on ${req.originalUrl}.`));
};

const SESSION_FORM = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec session</title></head>
<body>
<h1>Decoded payloads in the Temporal Web UI</h1>
<p>Paste an operator API key (<code>npm run dev</code> prints one) to let this browser decode payloads for 8 hours.</p>
<form method="post" action="session"><input name="key" type="password" autocomplete="off" size="60" required> <button type="submit">Sign in</button></form>
</body></html>
`;
