import type { RequestHandler } from 'express';
import { problem } from './http';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface KnownPath {
  template: string;
  pattern: RegExp;
  allow: string[];
}

/**
 * `/orders/{orderId}` → a pattern that matches the paths express routes to it: one segment per
 * parameter, case-insensitive, an optional trailing slash (express's defaults).
 */
export function pathTemplatePattern(template: string): RegExp {
  const body = template.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${body}/?$`, 'i');
}

/** The methods declared for each path of an OpenAPI document, as `Allow` lists (HEAD with GET, as express answers it). */
export function knownPathsOf(paths: Record<string, object>): KnownPath[] {
  return Object.entries(paths).map(([template, operations]) => {
    const declared = HTTP_METHODS.filter((m) => m in operations).map((m) => m.toUpperCase());
    const allow = [...new Set([...declared, ...(declared.includes('GET') ? ['HEAD'] : []), 'OPTIONS'])];
    return { template, pattern: pathTemplatePattern(template), allow };
  });
}

/**
 * Mounted after the routes, before the 404: a request to a path the document declares, with a
 * method it does not declare for that path, is answered 405 problem+json with `Allow` (RFC 9110
 * 15.5.6), not 404. OPTIONS is answered 204 with the same `Allow` (where express has not answered it
 * already for a router's routes). Unknown paths go on to the 404.
 */
export function methodNotAllowedHandler(paths: Record<string, object>): RequestHandler {
  const known = knownPathsOf(paths);
  return (req, res, next) => {
    const path = known.find((p) => p.pattern.test(req.path));
    if (!path) return next();
    res.set('Allow', path.allow.join(', '));
    if (req.method === 'OPTIONS') return void res.status(204).end();
    // A declared method that no route answered (none matched its finer rules) is a 404, not a 405.
    if (path.allow.includes(req.method)) return next();
    next(problem(405, 'method-not-allowed', 'Method not allowed',
      `${req.method} is not supported on ${path.template}; the Allow header lists what is.`));
  };
}
