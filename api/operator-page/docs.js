// The API reference: Swagger UI over this API's own document. The browser's session cookie
// (or the bearer header of whoever opened the page) authenticates the fetch of /openapi.json.
'use strict';
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
