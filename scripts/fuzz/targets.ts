import type { DevSystem } from '../dev/system';

/**
 * The services `npm run fuzz` runs schemathesis against, each at `<base url>/openapi.json`: the
 * one place to add a service (one entry) or say what a service needs (its credentials). A target
 * whose document is not served (404) is skipped with a message, not failed.
 */
export interface FuzzTarget {
  name: string;
  /** Where the service answers in the started system. */
  baseUrl(system: DevSystem): string;
  /** Headers sent with every request and with the document's fetch: the service's credentials, once it needs them. */
  headers(system: DevSystem): Promise<Record<string, string>>;
  /** Checks of `--checks all` left out for this target, each with why (so nothing is left out silently). */
  excludeChecks?: Record<string, string>;
  /** Operations not fuzzed (a path regex), with why. */
  skipPaths?: { regex: string; why: string };
  /**
   * A security scheme the document declares but the service does not enforce yet, with why: taken
   * out of the fuzzed copy of the document (loudly), so the run tests what the service does.
   */
  notEnforcedYet?: { scheme: string; why: string };
  /**
   * Statuses that a request the document calls valid may also get on an operation, besides
   * schemathesis's defaults (2xx, 3xx, 401, 403, 404, 409, 429, 5xx), each with why: for rules a
   * schema cannot state (does this SKU exist?), never for a rule it could.
   */
  validMayAlsoGet?: { method: string; path: string; statuses: string[]; why: string }[];
}

const local = (port: number) => `http://127.0.0.1:${port}`;

/** 422 on the API: a request that meets the schema but breaks a rule it cannot state (api/openapi.ts). */
const API_SEMANTIC_RULES = 'an unknown or repeated SKU, the catalog\'s currency, the total, a foreign cursor, an Idempotency-Key reused for another request (422 by the API\'s rule, api/openapi.ts)';

/** 422 on a peer: the Idempotency-Key was first used for another request (the fuzzer reuses keys). */
const KEY_REUSED = 'an Idempotency-Key first used for another request (422, as the IETF draft says)';

/** The peers' test-mode routes inject faults: failures there are what they are for. */
const TEST_ROUTES = { regex: '^/test/', why: 'test-mode fault injection (latency, failing answers, 3-D Secure outcomes) would make the service fail on purpose' };

export const FUZZ_TARGETS: FuzzTarget[] = [
  {
    name: 'api',
    baseUrl: (system) => local(system.ports.http.api),
    // The operator key reaches every operation (a shop key would get 403 on analytics, metrics and /codec).
    headers: async (system) => ({ Authorization: `Bearer ${system.apiKeys.operator}` }),
    validMayAlsoGet: [
      { method: 'POST', path: '/codec/decode', statuses: ['422'], why: 'a payload that says it is encrypted but does not decrypt with our keys (the schema cannot state which bytes decrypt)' },
      { method: 'POST', path: '/orders', statuses: ['422'], why: API_SEMANTIC_RULES },
      { method: 'POST', path: '/orders/{orderId}/cancel', statuses: ['422'], why: API_SEMANTIC_RULES },
      { method: 'GET', path: '/orders', statuses: ['422'], why: API_SEMANTIC_RULES },
    ],
  },
  // Peers: as the dev `tools` caller (scripts/dev/system.ts gives it INVENTORY_TOKEN / PAYMENT_TOKEN).
  {
    name: 'inventory', baseUrl: (system) => local(system.ports.http.inventory), skipPaths: TEST_ROUTES,
    headers: async (system) => ({ Authorization: `Bearer ${system.env.INVENTORY_TOKEN}` }),
    validMayAlsoGet: [
      { method: 'POST', path: '/reservations', statuses: ['422'], why: `an unknown SKU (does it exist?), or ${KEY_REUSED}` },
      ...['release', 'commit'].map((action) => ({ method: 'POST', path: `/reservations/{orderId}/${action}`, statuses: ['422'], why: KEY_REUSED })),
    ],
  },
  {
    name: 'payment', baseUrl: (system) => local(system.ports.http.payment), skipPaths: TEST_ROUTES,
    headers: async (system) => ({ Authorization: `Bearer ${system.env.PAYMENT_TOKEN}` }),
    validMayAlsoGet: [
      { method: 'POST', path: '/payments/authorize', statuses: ['402', '422'], why: `a declined card (402: which tokens the issuer approves), or ${KEY_REUSED}` },
      ...['/payments/{paymentId}/capture', '/payments/{paymentId}/void', '/payments/{paymentId}/refund', '/orders/{orderId}/payment/void', '/orders/{orderId}/payment/refund']
        .map((path) => ({ method: 'POST', path, statuses: ['422'], why: KEY_REUSED })),
    ],
  },
];
