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
export function apiDocsRouter(): Router {
  const router = Router();
  const swaggerUi = getAbsoluteFSPath();
  router.get('/docs', pageSecurityHeaders, htmlPage(join(PAGES_DIR, 'docs.html')));
  router.get('/docs/assets/:file', staticAssets({
    'docs.js': join(PAGES_DIR, 'docs.js'),
    'pages.css': join(PAGES_DIR, 'pages.css'),
    'swagger-ui.css': join(swaggerUi, 'swagger-ui.css'),
    'swagger-ui-bundle.js': join(swaggerUi, 'swagger-ui-bundle.js'),
  }));
  return router;
}
