import { Writable } from 'node:stream';
import express from 'express';
import { accessLog } from '../../api/access-log';
import { closeServer } from '../../common/http';
import { createLogger } from '../../common/logger';
import { serveOnLoopback } from '../harness/serve';

/**
 * The access log line of api/access-log.ts on a real express app and port: the authenticated
 * client (res.locals.client, set by api/auth.ts after the log middleware) is in the line; the
 * query string never is.
 */
describe('access log', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('api', new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8'))); done(); } }));
  let server: ReturnType<express.Express['listen']>;
  let url: string;

  beforeAll(async () => {
    const app = express();
    app.use(accessLog(logger));
    app.use((req, res, next) => {
      if (req.get('authorization') === 'Bearer shop-a-key') res.locals.client = { clientId: 'shop-a', keyId: 'k1', scopes: ['shop'] };
      next();
    });
    app.get('/orders', (_req, res) => { res.json({ items: [] }); });
    app.get('/boom', (_req, res) => { res.status(503).json({}); });
    ({ server, url } = await serveOnLoopback(app));
  });
  afterAll(() => closeServer(server));

  const lineFor = async (res: Response) => {
    const id = res.headers.get('x-correlation-id');
    for (let i = 0; i < 50 && !lines.some((l) => l.correlationId === id); i++) await new Promise((r) => setTimeout(r, 10));
    return lines.find((l) => l.correlationId === id);
  };

  it('names the authenticated client, and logs the path without its query', async () => {
    const line = await lineFor(await fetch(`${url}/orders?customerId=jane@shop.example&status=PENDING`, { headers: { authorization: 'Bearer shop-a-key' } }));
    expect(line).toMatchObject({ msg: 'request answered', method: 'GET', path: '/orders', status: 200, clientId: 'shop-a', durationMs: expect.any(Number) });
    expect(JSON.stringify(line)).not.toMatch(/jane|customerId|shop-a-key|authorization/i);
  });

  it('answers with the request\'s correlation id: its X-Correlation-Id, else its traceparent\'s trace id, else a new one', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const given = await fetch(`${url}/orders`, { headers: { 'x-correlation-id': 'shop:req-1', traceparent } });
    expect(given.headers.get('x-correlation-id')).toBe('shop:req-1');
    const traced = await fetch(`${url}/orders`, { headers: { 'x-correlation-id': 'not valid!', traceparent } });
    expect(traced.headers.get('x-correlation-id')).toBe(traceId);
    expect(await lineFor(traced)).toMatchObject({ correlationId: traceId, path: '/orders' });
    const fresh = await fetch(`${url}/orders`, { headers: { traceparent: 'garbage' } });
    expect(fresh.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('has no client for a request without one, and logs a 5xx at error level', async () => {
    const line = await lineFor(await fetch(`${url}/boom`));
    expect(line).toMatchObject({ msg: 'request failed', level: 50, status: 503, path: '/boom' });
    expect(line).not.toHaveProperty('clientId');
    expect(line).not.toHaveProperty('err');
  });
});
