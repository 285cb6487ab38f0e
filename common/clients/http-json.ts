import { correlationHeaders } from '../correlation-context';
import { inSpan, injectTraceContext, SpanKind } from '../tracing';

/**
 * The one place our code calls a peer service over HTTP, and the one place that decides which
 * failures are worth retrying: network errors, timeouts, 429 and 5xx are transient; any other
 * answer is returned for the caller to interpret as a business outcome.
 */
export class TransientPeerError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'TransientPeerError';
  }
}

/** The peer said something our contract with it does not allow: retrying will not help. */
export class PeerContractError extends Error {
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
    this.name = 'PeerContractError';
  }
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface PeerRequest {
  method: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** The header a caller authenticates to a peer service with (a shared secret per caller). */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/**
 * Calls a peer in a CLIENT span ("POST inventory"); the request carries the span's `traceparent`
 * and the current correlation id (X-Correlation-Id), so the peer's span and log lines join ours.
 */
export async function requestJson(service: string, url: string, init: PeerRequest): Promise<JsonResponse> {
  const path = new URL(url).pathname;
  return inSpan(`${init.method} ${service}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': init.method, 'peer.service': service, 'url.path': path },
  }, async (span) => {
    const res = await send(service, url, init);
    span.setAttribute('http.response.status_code', res.status);
    return res;
  });
}

async function send(service: string, url: string, init: PeerRequest): Promise<JsonResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: {
        accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...correlationHeaders(), ...injectTraceContext(), ...init.headers,
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${init.timeoutMs} ms` : (err as Error).message;
    throw new TransientPeerError(`${service} ${init.method} ${new URL(url).pathname} failed: ${reason}`);
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (isTransientStatus(res.status)) {
    throw new TransientPeerError(`${service} ${init.method} ${new URL(url).pathname} answered ${res.status}`, res.status);
  }
  return { status: res.status, body };
}

export function problemType(body: unknown): string | undefined {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type.slice(type.lastIndexOf('/') + 1) : undefined;
}

/**
 * The message names the problem's type and title only, never the body: it ends up in Temporal
 * failures and logs, and a peer's body may echo what it was sent (a card token, an email).
 */
export function unexpected(service: string, what: string, res: JsonResponse): PeerContractError {
  const { type, title, errors } = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as { type?: unknown; title?: unknown; errors?: unknown };
  const fields = Array.isArray(errors) ? errors.map((e) => (e as { path?: unknown } | null)?.path).filter((p): p is string => typeof p === 'string') : [];
  const said = [type, title].filter((v): v is string => typeof v === 'string').map((v) => v.slice(0, 120)).join(': ')
    + (fields.length > 0 ? `; fields: ${fields.slice(0, 10).join(', ')}` : '');
  return new PeerContractError(`${service} answered ${res.status} to ${what}, which our contract with it does not expect${said ? ` (${said})` : ''}`, res.status, res.body);
}
