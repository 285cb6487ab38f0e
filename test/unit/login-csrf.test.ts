import type express from 'express';
import pino from 'pino';
import { createApiApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { OPERATOR_SESSION } from '../../api/routes/operator-page';
import { crossSiteReason } from '../../api/same-origin';
import { closeServer } from '../../common/http';
import { serveOnLoopback } from '../harness/serve';

/**
 * Login CSRF: the forms that set or clear a browser session (POST /operator/login,
 * /operator/logout, /codec/session) refuse another site's post before reading it. The real API
 * app on a real port; no request here may reach the database or Temporal (their stand-ins throw).
 */
const unreachable = new Proxy({}, { get: (_t, prop) => { throw new Error(`a dependency was used (${String(prop)}) where none should be`); } });
const deps = {
  db: unreachable, temporal: unreachable, inventory: unreachable, taskQueue: 'unused', logger: pino({ level: 'silent' }),
  paymentConfirmationTimeoutMs: 1, paymentWebhookSecret: 'unused', idempotencyKeyTtlMs: 1, temporalCallTimeoutMs: 1,
  codec: { codec: unreachable, namespace: 'default', uiOrigins: ['http://127.0.0.1:8233'], secureCookie: false }, rateLimit: { posts: 1, windowMs: 60_000 },
} as unknown as ApiDeps;

const headersOf = (h: Record<string, string>) => ({ get: (name: string) => h[name.toLowerCase()] });

describe('crossSiteReason (pure logic)', () => {
  it.each([
    [{}, undefined],
    [{ 'sec-fetch-site': 'same-origin', origin: 'http://ops.example:3000', host: 'ops.example:3000' }, undefined],
    [{ origin: 'https://OPS.example', host: 'ops.example:443' }, undefined],
    [{ 'sec-fetch-site': 'cross-site', host: 'ops.example' }, 'cross-site'],
    [{ 'sec-fetch-site': 'same-site', host: 'ops.example' }, 'same-site'],
    [{ 'sec-fetch-site': 'none', host: 'ops.example' }, 'none'],
    [{ origin: 'https://evil.example', host: 'ops.example' }, 'Origin'],
    [{ origin: 'http://ops.example:3001', host: 'ops.example:3000' }, 'Origin'],
    [{ origin: 'null', host: 'ops.example' }, 'Origin'],
    [{ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example', host: 'ops.example' }, 'Origin'],
  ])('%p: refused for %p', (headers, refusedFor) => {
    const reason = crossSiteReason(headersOf(headers));
    if (refusedFor === undefined) expect(reason).toBeUndefined();
    else expect(reason).toContain(refusedFor);
  });
});

describe('the session forms', () => {
  const app = createApiApp(deps);
  let server: ReturnType<express.Express['listen']>;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await serveOnLoopback(app));
  });
  afterAll(() => closeServer(server));

  const post = (path: string, headers: Record<string, string>) => fetch(`${url}${path}`, {
    method: 'POST', redirect: 'manual', body: 'key=ook_attackers_key&next=%2Foperator',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

  it.each(['/operator/login', '/operator/logout', '/codec/session'])('refuses a cross-site post to %s with 403 problem+json, setting no cookie', async (path) => {
    const crossSite: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }, { 'sec-fetch-site': 'same-site', origin: url }];
    for (const headers of crossSite) {
      const res = await post(path, headers);
      expect([path, headers, res.status]).toEqual([path, headers, 403]);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ type: expect.stringMatching(/\/cross-site-request$/), status: 403 });
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('signs out a same-origin post: clears the session cookie at each of its paths, then to the sign-in form', async () => {
    const res = await post('/operator/logout', { 'sec-fetch-site': 'same-origin', origin: url });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/operator/login');
    const cleared = res.headers.getSetCookie();
    expect(cleared).toHaveLength(OPERATOR_SESSION.paths.length);
    for (const [i, path] of OPERATOR_SESSION.paths.entries()) {
      expect(cleared[i]).toMatch(new RegExp(`^${OPERATOR_SESSION.name}=;.*Path=${path.replace('/', '\\/')};.*Expires=Thu, 01 Jan 1970`));
      expect(cleared[i]).toMatch(/HttpOnly; SameSite=Strict/);
    }
  });

  it('serves the forms\' pages with Referrer-Policy same-origin (under no-referrer a browser posts them with Origin: null)', async () => {
    for (const path of ['/operator/login', '/codec/session']) {
      const res = await fetch(`${url}${path}`);
      expect([path, res.status, res.headers.get('referrer-policy')]).toEqual([path, 200, 'same-origin']);
    }
  });

  it('answers GET /operator/logout with 405 (sign-out is a post)', async () => {
    const res = await fetch(`${url}/operator/logout`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });
});
