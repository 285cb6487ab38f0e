import { join } from 'node:path';
import { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { pageSecurityHeaders } from '../security-headers';
import { htmlPage, staticAssets } from '../static-assets';
import { PAGES_DIR } from './operator-page';

/**
 * The API reference (GET /docs): Swagger UI from node_modules over our /openapi.json. Shops are
 * its main readers, so any valid key may read it, as it may read /openapi.json; a browser signs in
 * at /operator/login (api/routes/operator-page.ts), whose session covers /docs and /openapi.json.
 */
const SWAGGER_UI_DIR = getAbsoluteFSPath();
/** The files the API reference loads, by the name in its URL (/docs/assets/<name>). */
export const API_DOCS_ASSETS: Readonly<Record<string, string>> = {
  'docs.js': join(PAGES_DIR, 'docs.js'),
  'swagger-ui.css': join(SWAGGER_UI_DIR, 'swagger-ui.css'),
  'swagger-ui-bundle.js': join(SWAGGER_UI_DIR, 'swagger-ui-bundle.js'),
};

export function apiDocsRouter(): Router {
  const router = Router();
  router.get('/docs', pageSecurityHeaders, htmlPage(join(PAGES_DIR, 'docs.html')));
  router.get('/docs/assets/:file', staticAssets(API_DOCS_ASSETS));
  return router;
}
