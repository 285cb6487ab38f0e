import type express from 'express';
import pino from 'pino';
import { createApiApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { openApiDocument } from '../../api/openapi';
import { closeServer } from '../../common/http';
import { serveOnLoopback } from '../harness/serve';

/**
 * The OpenAPI document and the express app agree: every route of the app is an operation of
 * the document and every operation is a route; and a method the document does not declare on
 * a path it knows is 405 with Allow, as problem+json. Real express app on a real port; no route
 * here reaches the database or Temporal (their stand-ins throw if one did).
 */
const unreachable = new Proxy({}, { get: (_t, prop) => { throw new Error(`a dependency was used (${String(prop)}) where none should be`); } });
const deps = {
  db: unreachable, temporal: unreachable, inventory: unreachable, taskQueue: 'unused', logger: pino({ level: 'silent' }),
  paymentConfirmationTimeoutMs: 1, paymentWebhookSecret: 'unused', idempotencyKeyTtlMs: 1, temporalCallTimeoutMs: 1,
  codec: { codec: unreachable, namespace: 'default', uiOrigins: ['http://127.0.0.1:8233'], secureCookie: false }, rateLimit: { posts: 1, windowMs: 60_000 },
} as unknown as ApiDeps;

interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown; slash?: boolean }

/** `METHOD /path/{param}` for every route of an express app, routers mounted without a path included. */
function routesOf(app: express.Express): string[] {
  const walk = (stack: Layer[], prefix: string): string[] => stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}');
      return Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${path}`);
    }
    // A router mounted at a path (app.use('/codec', router)) keeps it as rawPath; one mounted without has slash set.
    const mountedAt = !layer.slash && typeof layer.rawPath === 'string' ? layer.rawPath : '';
    return layer.handle?.stack ? walk(layer.handle.stack, `${prefix}${mountedAt}`) : [];
  });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
}

function operationsOf(doc: ReturnType<typeof openApiDocument>): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

describe('the API\'s OpenAPI document', () => {
  const app = createApiApp(deps);
  let server: ReturnType<express.Express['listen']>;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await serveOnLoopback(app));
  });
  afterAll(() => closeServer(server));

  it('has exactly the routes of the express app', () => {
    const routes = routesOf(app).sort();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(operationsOf(openApiDocument()).sort()).toEqual(routes);
  });

  it('declares bearer auth for every operation but the health checks, and the webhook by its signature', () => {
    const doc = openApiDocument();
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/webhooks/payments'].post.security).toEqual([{ paymentSignature: [] }]);
  });

  // Paths behind an API key answer 401 first (nothing is told to a caller without one); their 405s
  // are checked with a key in test/e2e/api-hardening.test.ts.
  it('answers a method it does not declare with 405, Allow and problem+json; OPTIONS with Allow', async () => {
    for (const [method, path, allow] of [
      ['GET', '/codec/decode', 'POST, OPTIONS'],
      ['POST', '/healthz/', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ type: expect.stringMatching(/\/method-not-allowed$/), status: 405 });
    }
    // OPTIONS: express answers it for its routers' paths, our handler for the others; both list the declared methods.
    const options = await fetch(`${url}/healthz`, { method: 'OPTIONS' });
    expect(options.status).toBeLessThan(300);
    expect(options.headers.get('allow')?.split(/,\s*/)).toEqual(expect.arrayContaining(['GET']));
  });
});
