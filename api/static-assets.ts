import { extname } from 'node:path';
import type { RequestHandler } from 'express';
import { problem } from '../common/http';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

/**
 * Dot-directories allowed in our absolute paths: with send's default (`dotfiles: 'ignore'`) a
 * clone under a hidden directory (~/.local/src/…) would answer every page and asset 404. No
 * request chooses a path (below), so this opens nothing to callers.
 */
const SEND_OPTIONS = { dotfiles: 'allow' } as const;

/**
 * Serves the files of a fixed list by name (`:file`), from absolute paths chosen here, never
 * from the request: no path the caller writes reaches the file system. Vendored libraries come
 * straight from node_modules (chart.js, swagger-ui-dist): no build step.
 */
export function staticAssets(files: Readonly<Record<string, string>>): RequestHandler {
  return (req, res, next) => {
    const name = String(req.params.file);
    const path = Object.hasOwn(files, name) ? files[name] : undefined;
    if (!path) return next(problem(404, 'not-found', 'Not found', `No asset "${name}" here.`));
    res.type(TYPES[extname(path)] ?? 'application/octet-stream');
    res.sendFile(path, SEND_OPTIONS, (err) => err && next(err));
  };
}

/** Sends one of our HTML pages. */
export function htmlPage(path: string): RequestHandler {
  return (_req, res, next) => {
    res.type(TYPES['.html']!);
    res.sendFile(path, SEND_OPTIONS, (err) => err && next(err));
  };
}
