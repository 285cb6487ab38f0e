import { PROBLEM_BASE } from '../common/http';

/**
 * Every RFC 9457 problem the API answers with, as the code emits it: its `type` slug, its status,
 * and its extension fields. Each becomes a closed schema (no other field allowed) in the OpenAPI
 * document, so a field added to a problem without documenting it fails the conformance checks
 * (scripts/fuzz). `Problem` is the open shape every one of them has.
 */
type JsonSchema = Record<string, unknown>;

const str = { type: 'string' };
const int = { type: 'integer' };
const uuid = { type: 'string', format: 'uuid' };

const PROBLEM_KINDS = {
  ValidationError: { slug: 'validation-error', status: 400, extensions: { errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], additionalProperties: false, properties: { path: str, message: str } } } } },
  MalformedJson: { slug: 'malformed-json', status: 400 },
  /** express or its body parser refused the request as sent (unsupported charset or encoding, an undecodable path). */
  BadRequest: { slug: 'bad-request', status: { type: 'integer', minimum: 400, maximum: 499 } },
  PayloadTooLarge: { slug: 'payload-too-large', status: 413 },
  InvalidIdempotencyKey: { slug: 'invalid-idempotency-key', status: 400 },
  InvalidCursor: { slug: 'invalid-cursor', status: 422 },
  IdempotencyKeyInUse: { slug: 'idempotency-key-in-use', status: 409 },
  IdempotencyKeyReused: { slug: 'idempotency-key-reused', status: 422 },
  UnknownSku: { slug: 'unknown-sku', status: 422, extensions: { skus: { type: 'array', items: str } } },
  DuplicateSku: { slug: 'duplicate-sku', status: 422, extensions: { skus: { type: 'array', items: str } } },
  CurrencyMismatch: {
    slug: 'currency-mismatch', status: 422,
    extensions: { currency: str, products: { type: 'array', items: { type: 'object', required: ['sku', 'currency'], additionalProperties: false, properties: { sku: str, currency: { type: ['string', 'null'] } } } } },
  },
  OrderTotalTooLarge: { slug: 'order-total-too-large', status: 422, extensions: { totalCents: int, maxTotalCents: int } },
  OrderTotalZero: { slug: 'order-total-zero', status: 422, extensions: { totalCents: int } },
  CatalogUnavailable: { slug: 'catalog-unavailable', status: 503 },
  OrderOutcomeUnknown: { slug: 'order-outcome-unknown', status: 503, extensions: { orderId: uuid } },
  CancelOutcomeUnknown: { slug: 'cancel-outcome-unknown', status: 503, extensions: { orderId: uuid } },
  OrderNotFound: { slug: 'order-not-found', status: 404 },
  CancelRefused: { slug: 'cancel-refused', status: 409, extensions: { orderId: uuid, orderStatus: str } },
  InvalidSignature: { slug: 'invalid-signature', status: 401 },
  WorkflowUnavailable: { slug: 'workflow-unavailable', status: 503 },
  Internal: { slug: 'internal', status: 500 },
  // Authentication, scopes and rate limits (api/auth.ts, api/rate-limit.ts).
  Unauthenticated: { slug: 'unauthenticated', status: 401 },
  InvalidApiKey: { slug: 'invalid-api-key', status: 401 },
  Forbidden: { slug: 'forbidden', status: 403 },
  RateLimited: { slug: 'rate-limited', status: 429 },
  OrderLookupUnavailable: { slug: 'order-lookup-unavailable', status: 503 },
  CodecNamespaceUnknown: { slug: 'codec-namespace-unknown', status: 400 },
  PayloadNotDecodable: { slug: 'payload-not-decodable', status: 422 },
  NotFound: { slug: 'not-found', status: 404 },
  InspectionUnavailable: { slug: 'inspection-unavailable', status: 503 },
  /** A browser form's post from another site's page (api/same-origin.ts). */
  CrossSiteRequest: { slug: 'cross-site-request', status: 403 },
} satisfies Record<string, { slug: string; status: number | JsonSchema; extensions?: Record<string, JsonSchema> }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

/** Any problem: what responses that another module defines (authentication, rate limits) are held to. */
const openProblem: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: { type: { type: 'string', format: 'uri' }, title: str, status: int, detail: str, instance: str },
};

/** components.schemas entries: `Problem` and one closed schema per kind. */
export function problemSchemas(): Record<string, JsonSchema> {
  const kinds = Object.entries(PROBLEM_KINDS).map(([name, kind]) => {
    const extensions: Record<string, JsonSchema> = 'extensions' in kind ? kind.extensions : {};
    return [name, {
      type: 'object',
      required: ['type', 'title', 'status', ...Object.keys(extensions)],
      additionalProperties: false,
      properties: {
        type: { const: PROBLEM_BASE + kind.slug },
        title: str,
        status: typeof kind.status === 'number' ? { const: kind.status } : kind.status,
        detail: str,
        instance: str,
        ...extensions,
      },
    }];
  });
  return { Problem: openProblem, ...Object.fromEntries(kinds) };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A problem+json response that is one of the given kinds (or any problem, without kinds). */
export function problemResponse(description: string, kinds: ProblemKind[] = [], headers: Record<string, JsonSchema> = {}): JsonSchema {
  const schema = kinds.length === 0 ? ref('Problem') : kinds.length === 1 ? ref(kinds[0]!) : { oneOf: kinds.map(ref) };
  return { description, headers, content: { 'application/problem+json': { schema } } };
}
