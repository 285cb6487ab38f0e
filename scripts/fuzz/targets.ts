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
const none = async () => ({});

/** 422 on the API: a request that meets the schema but breaks a rule it cannot state (api/openapi.ts). */
const API_SEMANTIC_RULES = 'an unknown or repeated SKU, the catalog\'s currency, the total, a foreign cursor, an Idempotency-Key reused for another request (422 by the API\'s rule, api/openapi.ts)';

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
  // Peers: once they require caller tokens, `headers` returns `Authorization: Bearer <the tools token>`.
  { name: 'inventory', baseUrl: (system) => local(system.ports.http.inventory), headers: none, skipPaths: TEST_ROUTES },
  { name: 'payment', baseUrl: (system) => local(system.ports.http.payment), headers: none, skipPaths: TEST_ROUTES },
];
