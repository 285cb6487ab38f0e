import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../../common/logger';

export interface JsonResponse<T = any> {
  status: number;
  contentType: string;
  replayed: boolean;
  body: T;
}

/** The caller the service tests call as: start the service with `callers: TEST_CALLERS`. */
export const TEST_TOKEN = `test-token-${randomUUID()}`;
export const TEST_CALLERS: ReadonlyMap<string, string> = new Map([['tools', TEST_TOKEN]]);

/**
 * Calls a service the way another team's client would: JSON over HTTP, nothing mocked. Sends
 * TEST_TOKEN as the caller's credential unless `token` names another one (null: none at all).
 */
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; key?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<JsonResponse<T>> {
  const token = options.token === undefined ? TEST_TOKEN : options.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...options.headers };
  if (options.key) headers['Idempotency-Key'] = options.key;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    replayed: response.headers.get('idempotent-replayed') === 'true',
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

export const newKey = () => `key-${randomUUID()}`;

/** Quiet in tests unless LOG_LEVEL asks otherwise. */
export function testLogger(name: string): Logger {
  const logger = createLogger(name);
  logger.level = process.env.LOG_LEVEL ?? 'silent';
  return logger;
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const problemType = (slug: string) => `https://problems.order-orchestrator.dev/${slug}`;
