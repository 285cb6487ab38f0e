import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Serves an (express) app on a free loopback port and gives its base URL; stop it with closeServer (common/http.ts). */
export async function serveOnLoopback(app: { listen(port: number, host: string): Server }): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
