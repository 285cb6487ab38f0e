import type { RequestHandler } from 'express';
import { problem } from '../../common/http';
import { pathTemplatePattern } from '../../common/method-not-allowed';
import type { Logger } from '../../common/logger';

/**
 * What each caller of a peer may do, by operation (`METHOD /path/{param}` as in the service's
 * OpenAPI document), or everything ('*'). A caller token proves who calls; this says what that
 * caller is for, so a leaked API token cannot set prices or take payments. Each caller configured
 * in INVENTORY_CALLER_TOKENS / PAYMENT_CALLER_TOKENS must be one of these roles, or a role with a
 * suffix (`worker-next`, for rotating a token: the role is the name up to its first "-"); checked at start.
 */
export type CallerPermissions = Readonly<Record<string, readonly string[] | '*'>>;

export const INVENTORY_CALLER_PERMISSIONS: CallerPermissions = {
  /** The API prices orders from the catalog, and reads an order's reservation for the operator inspection. */
  api: ['GET /products/{sku}', 'GET /reservations/{orderId}'],
  /** The worker runs the saga's stock steps. */
  worker: ['POST /reservations', 'GET /reservations/{orderId}', 'POST /reservations/{orderId}/release', 'POST /reservations/{orderId}/commit'],
  /** Operators' and developers' tools (catalog upkeep, scripts, tests, test-mode routes). */
  tools: '*',
};

export const PAYMENT_CALLER_PERMISSIONS: CallerPermissions = {
  /** The API reads an order's payment for the operator inspection (GET /operator/orders/{orderId}/inspection). */
  api: ['GET /payments'],
  /** The worker runs the saga's payment steps and their undos. */
  worker: [
    'POST /payments/authorize', 'POST /payments/{paymentId}/capture', 'POST /payments/{paymentId}/void', 'POST /payments/{paymentId}/refund',
    'POST /orders/{orderId}/payment/void', 'POST /orders/{orderId}/payment/refund', 'GET /payments', 'GET /payments/{paymentId}',
  ],
  tools: '*',
};

/** Refuses (403) a call its authenticated caller (res.locals.caller) is not for; throws at start for a caller without permissions. */
export function callerPermissions(serviceName: string, callers: Iterable<string>, permissions: CallerPermissions, logger: Logger): RequestHandler {
  const roleOf = (caller: string) => caller.split('-')[0]!;
  const unknown = [...callers].filter((caller) => !(roleOf(caller) in permissions));
  if (unknown.length > 0) {
    throw new Error(`the ${serviceName} service has caller tokens for ${unknown.join(', ')}, which have no permissions; `
      + `name each caller one of ${Object.keys(permissions).join(', ')}, optionally with a suffix such as -next (services/shared/caller-permissions.ts)`);
  }
  const allowed = new Map(Object.entries(permissions).map(([caller, ops]) => [caller, ops === '*' ? '*' as const
    : ops.map((op) => { const [method, template] = op.split(' ') as [string, string]; return { method, pattern: pathTemplatePattern(template) }; })]));
  return (req, res, next) => {
    const caller = (res.locals as { caller?: string }).caller!;
    const ops = allowed.get(roleOf(caller));
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (ops === '*' || ops?.some((op) => op.method === method && op.pattern.test(req.path))) return next();
    logger.warn({ caller, method: req.method, path: req.path }, 'call refused: not one this caller is for');
    next(problem(403, 'caller-not-allowed', 'Not allowed for this caller',
      `The ${caller} caller may not call ${req.method} ${req.path} on ${serviceName}; use the token of the service this call belongs to.`));
  };
}
