import type { RequestHandler } from 'express';
import { z } from 'zod';
import { problem as httpProblem } from '../../common/http';

/**
 * What both peers' OpenAPI 3.1 documents share: the problem schema, the caller-token security
 * scheme, the open health operations, and the 405 answer derived from the document's paths.
 * Bodies come from the zod schemas the routes validate with (z.toJSONSchema), as in api/openapi.ts.
 */
export type OpenApiOperation = Record<string, unknown>;
export type OpenApiPaths = Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).loose();

export const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) } });
export const requestJson = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } } });
export const ok = (description: string, schema: z.ZodType) => ({ description, content: json(schema) });
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/** Every authenticated operation can answer these. */
export const callerRefused = {
  401: problem('No valid caller token (Authorization: Bearer <token>)'),
  403: problem('This caller may not call this operation (services/shared/caller-permissions.ts)'),
};

export const pathParam = (name: string, schema: z.ZodType, description?: string) =>
  ({ name, in: 'path', required: true, schema: z.toJSONSchema(schema, { io: 'input' }), ...(description ? { description } : {}) });

/** The Idempotency-Key every mutating call needs, as common/idempotency-key.ts checks it. */
export const idempotencyKeyHeader = {
  name: 'Idempotency-Key', in: 'header', required: true,
  description: 'Unique per intended operation; a retry with the same key and body gets the first answer back (Idempotent-Replayed: true)',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
};
export const idempotentAnswers = {
  400: problem('Invalid request body or path, or a missing or malformed Idempotency-Key'),
  422: problem('The Idempotency-Key was first used with another request'),
};

const open = { security: [] };
const healthPaths: OpenApiPaths = {
  '/healthz': { get: { summary: 'Liveness', ...open, responses: { 200: ok('The process is up', z.object({ status: z.literal('ok') })) } } },
  '/readyz': { get: { summary: 'Readiness (the database answers)', ...open, responses: { 200: ok('Ready', z.object({ status: z.literal('ready') })), 503: problem('The database does not answer') } } },
  '/openapi.json': { get: { summary: 'This document', ...open, responses: { 200: { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } } } },
};

export function serviceDocument(opts: { title: string; description: string; paths: OpenApiPaths }) {
  return {
    openapi: '3.1.0',
    info: { title: opts.title, version: '0.1.0', description: opts.description },
    components: {
      schemas: { Problem: z.toJSONSchema(problemSchema) },
      securitySchemes: {
        callerToken: {
          type: 'http', scheme: 'bearer',
          description: 'The shared secret of the calling service (one per caller, e.g. the API and the worker), from the service\'s *_CALLER_TOKENS setting',
        },
      },
    },
    security: [{ callerToken: [] }],
    paths: { ...healthPaths, ...opts.paths },
  };
}

/** `/products/{sku}` → a regex matching one path segment per parameter. */
function templateRegex(template: string): RegExp {
  const pattern = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${pattern}/?$`);
}

/**
 * For a path the document knows, any method it does not declare answers 405 with `Allow`
 * (RFC 9110); unknown paths fall through to the routes (and 404). Concrete paths match before
 * templated ones, as in OpenAPI: GET /payments/authorize is 405, not GET /payments/{paymentId}.
 * Mounted before the routes.
 */
export function methodNotAllowed(paths: OpenApiPaths): RequestHandler {
  const known = Object.entries(paths).map(([template, operations]) => {
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    return { regex: templateRegex(template), methods, parameters: template.split('{').length - 1 };
  }).sort((a, b) => a.parameters - b.parameters);
  return (req, res, next) => {
    const path = known.find((p) => p.regex.test(req.path));
    if (!path || path.methods.includes(req.method)) return next();
    res.setHeader('Allow', path.methods.join(', '));
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next(httpProblem(405, 'method-not-allowed', 'Method not allowed', `${req.path} answers ${path.methods.join(', ')}, not ${req.method}.`));
  };
}
