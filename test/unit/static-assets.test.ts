import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { htmlPage, staticAssets } from '../../api/static-assets';
import { closeServer, problemErrorHandler } from '../../common/http';
import { serveOnLoopback } from '../harness/serve';

/**
 * The pages' files are served from absolute paths of a fixed list, wherever the clone is: also
 * under a hidden directory (~/.local/src/…), which send's default `dotfiles: 'ignore'` answers
 * 404. A real express app on a real port, files in a temporary directory.
 */
describe('static assets under a hidden directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'static-assets-'));
  const hidden = join(root, '.local', 'src', 'order-orchestrator');
  mkdirSync(hidden, { recursive: true });
  writeFileSync(join(hidden, 'page.js'), 'console.log("page");\n');
  writeFileSync(join(hidden, 'page.html'), '<!doctype html><title>page</title>\n');
  const app = express();
  app.get('/assets/:file', staticAssets({ 'page.js': join(hidden, 'page.js') }));
  app.get('/page', htmlPage(join(hidden, 'page.html')));
  app.use(problemErrorHandler(pino({ level: 'silent' })));
  let server: ReturnType<express.Express['listen']>;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await serveOnLoopback(app));
  });
  afterAll(async () => {
    await closeServer(server);
    rmSync(root, { recursive: true, force: true });
  });

  it('serves a listed asset and a page', async () => {
    const asset = await fetch(`${url}/assets/page.js`);
    expect([asset.status, asset.headers.get('content-type'), await asset.text()]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("page");\n']);
    const page = await fetch(`${url}/page`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('still answers 404 for a name not on the list', async () => {
    expect((await fetch(`${url}/assets/.env`)).status).toBe(404);
    expect((await fetch(`${url}/assets/..%2Fpage.html`)).status).toBe(404);
  });
});
