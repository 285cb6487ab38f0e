import express from 'express';
import pino from 'pino';
import { PeerContractError } from '../../common/clients/http-json';
import { closeServer, notFoundHandler, problemErrorHandler } from '../../common/http';
import { serveOnLoopback } from '../harness/serve';

/**
 * The last error handler of every app of ours (API and peers): whatever goes wrong leaves as
 * RFC 9457 problem+json with a status that says whose fault it is, and without internal text.
 * A real express app on a real port.
 */
describe('problemErrorHandler', () => {
  let url: string;
  let server: ReturnType<express.Express['listen']>;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.post('/echo', (req, res) => { res.json(req.body); });
    app.get('/items/:id', (req, res) => { res.json({ id: req.params.id }); });
    app.get('/boom', () => {
      const err = new Error('duplicate key value violates unique constraint "orders_pkey" in SELECT * FROM orders WHERE id = $1');
      throw Object.assign(err, { code: '23505', detail: 'Key (id)=(1) already exists.' });
    });
    app.get('/peer', () => {
      throw new PeerContractError('inventory answered 400 to GET /products/x: {"detail":"internal inventory text"}', 400, { detail: 'internal inventory text' });
    });
    app.use(notFoundHandler);
    app.use(problemErrorHandler(pino({ level: 'silent' })));
    ({ server, url } = await serveOnLoopback(app));
  });
  afterAll(() => closeServer(server));

  async function problemOf(res: Response) {
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    return (await res.json()) as { type: string; title: string; status: number; detail?: string };
  }

  it('an unexpected error is a 500 that names nothing internal', async () => {
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    expect(JSON.stringify(await problemOf(res))).not.toMatch(/duplicate|orders_pkey|SELECT|23505|already exists|at /);
    const peer = await fetch(`${url}/peer`); // a peer's 400 is our problem, not the client's
    expect(peer.status).toBe(500);
    expect(JSON.stringify(await problemOf(peer))).not.toMatch(/inventory|internal inventory text/);
  });

  it('refusals of the body parser and the router keep their 4xx, with our own words', async () => {
    const charset = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json; charset=latin2' }, body: '{}' });
    expect(charset.status).toBe(415);
    expect(await problemOf(charset)).toMatchObject({ status: 415, type: expect.stringMatching(/^https:\/\//) });

    const encoding = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' }, body: '{}' });
    expect(encoding.status).toBe(415);
    expect((await problemOf(encoding)).status).toBe(415);

    const param = await fetch(`${url}/items/%E0%A4%A`);
    expect(param.status).toBe(400);
    expect((await problemOf(param)).status).toBe(400);

    const tooLarge = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(2_000) }) });
    expect(tooLarge.status).toBe(413);
  });
});
