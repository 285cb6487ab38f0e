import { authResponses, commonResponses, CROSS_SITE_REFUSED, header, json, ok, open, problems } from './openapi';
import { dashboardQuery, operatorDashboard } from './operator-dashboard';
import { API_DOCS_ASSETS } from './routes/api-docs';
import { OPERATOR_PAGE_ASSETS, OPERATOR_SESSION, SIGN_IN_TARGETS } from './routes/operator-page';

/**
 * The browser pages (api/routes/operator-page.ts, api/routes/api-docs.ts) in the OpenAPI document:
 * the operator page and its data, the API reference, their assets and the sign-in form.
 */
export function operatorPagePaths() {
  const html = (description: string) => ok(description, { 'text/html': { schema: { type: 'string' } } });
  const signIn = { 303: { description: 'A browser without a credential (no Authorization header, no session): to the sign-in form', headers: { Location: header('/operator/login?next=…') } } };
  const assets = (files: string[]) => ({
    get: {
      summary: 'A file the page loads (script or stylesheet)',
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: files } }],
      responses: {
        200: ok('The file', { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } }),
        ...authResponses,
        404: problems('No such file', ['NotFound']),
        ...commonResponses,
      },
    },
  });
  const { days } = dashboardQuery.shape;
  return {
    '/operator': {
      get: {
        summary: 'The operator page: charts of the read model, consumer lag, stuck orders (operators)',
        description: 'A browser signs in at /operator/login; a bearer operator key works too.',
        responses: { 200: html('The page'), ...signIn, ...authResponses, ...commonResponses },
      },
    },
    '/operator/dashboard': {
      get: {
        summary: 'What the operator page charts (operators)',
        parameters: [{ name: 'days', in: 'query', required: false, description: 'The window, in days back from now', schema: { type: 'integer', minimum: 1, maximum: 90, default: days.def.defaultValue } }],
        responses: {
          200: ok('Orders by status over time, revenue by day and currency, cancel reasons, saga step latencies, consumer lag', json(operatorDashboard)),
          400: problems('A query parameter breaks the schema, or one not listed here was sent', ['ValidationError', 'BadRequest']),
          ...authResponses, ...commonResponses,
        },
      },
    },
    '/operator/assets/{file}': assets(Object.keys(OPERATOR_PAGE_ASSETS)),
    '/operator/login': {
      get: {
        summary: 'The sign-in form for the browser pages (holds no data)',
        ...open,
        parameters: [{ name: 'next', in: 'query', required: false, description: 'The page to go to once signed in (any other value: /operator)', schema: { type: 'string' } }],
        responses: { 200: html('The form'), ...commonResponses },
      },
      post: {
        summary: `Sign a browser in with an API key: sets the HttpOnly session cookie ${OPERATOR_SESSION.name} (8 hours) for ${OPERATOR_SESSION.paths.join(', ')}`,
        ...open,
        requestBody: {
          required: true,
          content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, next: { type: 'string', enum: [...SIGN_IN_TARGETS] } } } } },
        },
        responses: {
          303: { description: 'Signed in: to the page asked for', headers: { Location: header('/operator or /docs'), 'Set-Cookie': header(`${OPERATOR_SESSION.name}, HttpOnly, SameSite=Strict, one per path`) } },
          413: problems('The body is larger than 4 kB', ['PayloadTooLarge']),
          ...authResponses,
          403: problems(CROSS_SITE_REFUSED, ['CrossSiteRequest']), // any valid key may sign in: no scope refusal
          ...commonResponses,
        },
      },
    },
    '/operator/logout': {
      post: {
        summary: `Sign a browser out: clears the session cookie ${OPERATOR_SESSION.name} (no key needed)`,
        ...open,
        responses: {
          303: { description: 'Signed out: to the sign-in form', headers: { Location: header('/operator/login'), 'Set-Cookie': header(`${OPERATOR_SESSION.name} expired, one per path`) } },
          403: problems(CROSS_SITE_REFUSED, ['CrossSiteRequest']),
          ...commonResponses,
        },
      },
    },
    '/docs': {
      get: {
        summary: 'The API reference (Swagger UI over /openapi.json); any valid key',
        responses: { 200: html('The page'), ...signIn, ...authResponses, ...commonResponses },
      },
    },
    '/docs/assets/{file}': assets(Object.keys(API_DOCS_ASSETS)),
  };
}
