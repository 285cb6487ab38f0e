import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestJson } from '../../common/clients/http-json';

/**
 * Calls to the peers reuse their TCP connections (Node's fetch keeps them alive; nothing of ours
 * may turn that off): a real HTTP server on loopback counts the connections it accepts. Node 20's
 * fetch (undici 6) often opens a second socket even for calls one after another (the next call
 * starts before the last socket is back in the pool) and then alternates between the two, so the
 * bounds below are "a few", not one; without keep-alive every call would be a connection.
 */
describe('peer calls keep their connections alive', () => {
  let server: Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        // A little work, so that concurrent calls overlap and each needs a connection of its own.
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 20);
      });
    });
    server.on('connection', () => { connections += 1; });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reservations`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => { connections = 0; });

  it('sends calls one after another over a couple of connections, not one each', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await requestJson('inventory', url, { method: 'POST', body: { n: i }, timeoutMs: 5_000 });
      expect(res.status).toBe(200);
    }
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(5); // without keep-alive: 20
  });

  it('keeps a pool of connections for calls in flight, and the later waves reuse it', async () => {
    const wave = () => Promise.all(Array.from({ length: 8 }, (_, i) => requestJson('payment', url, { method: 'POST', body: { i }, timeoutMs: 5_000 })));
    await wave();
    await wave(); // the pool grows to about twice the calls in flight (see above), then stays
    const warm = connections;
    expect(warm).toBeGreaterThan(1);
    expect(warm).toBeLessThanOrEqual(2 * 8 + 2);
    for (let i = 0; i < 4; i++) await wave();
    // 32 more calls: a few stray new sockets at most (a busy machine slows the pool's bookkeeping),
    // never one per call as without keep-alive.
    expect(connections - warm).toBeLessThanOrEqual(8);
  });
});
