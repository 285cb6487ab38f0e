import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { callerRefused, ok, problem, requestJson, type OpenApiPaths } from './openapi';

/**
 * Switchable failure modes for tests and demos: make a peer service slow, or answer 503 to the
 * next N mutating calls, without restarting it. `PUT /test/faults` sets them, `GET` reads them.
 */
export const faultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(120_000).default(0),
  failNextRequests: z.number().int().min(0).max(1_000_000).default(0),
});
export type Faults = z.infer<typeof faultsSchema>;

export class FaultInjector {
  private faults: Faults = { latencyMs: 0, failNextRequests: 0 };

  get current(): Faults {
    return { ...this.faults };
  }

  /** Applies to mutating requests only, so tests can still read state while faults are on. */
  middleware(): RequestHandler {
    return async (req, res, next) => {
      if (req.method === 'GET' || req.path.startsWith('/test/')) return next();
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      if (this.faults.failNextRequests > 0) {
        this.faults.failNextRequests -= 1;
        res.status(503).type('application/problem+json').send(JSON.stringify({
          type: 'https://problems.order-orchestrator.dev/injected-fault', title: 'Service unavailable (injected fault)', status: 503,
        }));
        return;
      }
      next();
    };
  }

  mount(router: Router): void {
    router.get('/test/faults', (_req, res) => { res.json(this.current); });
    router.put('/test/faults', (req, res) => {
      this.faults = faultsSchema.parse(req.body ?? {});
      res.json(this.current);
    });
  }
}

/** The OpenAPI paths of GET/PUT /test/faults, listed in test mode only. */
export function faultPaths(): OpenApiPaths {
  return {
    '/test/faults': {
      get: { summary: 'Current injected faults (test mode only)', responses: { 200: ok('Faults', faultsSchema), ...callerRefused } },
      put: {
        summary: 'Make mutating calls slow or fail with 503 (test mode only); fields left out are 0',
        requestBody: { required: false, content: requestJson(faultsSchema).content },
        responses: { 200: ok('Faults now', faultsSchema), 400: problem('Invalid faults'), ...callerRefused },
      },
    },
  };
}
