import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { eventEnvelope, eventPayloads, eventSchemaVersions, eventSubject, eventTypes, legacyEventVersions, type EventType } from '../../common/events';
import { dlqStreamName, dlqSubject } from '../../common/nats';
import { DLQ_HEADERS } from '../../workers/dead-letters';
import { consumersOf, consumerSubscriptions } from '../../workers/subscriptions';

/**
 * Event catalog: an AsyncAPI 3.0 document generated from common/events.ts, checked in as
 * docs/asyncapi.json. `npm run events:catalog` writes it; `-- --check` fails when it is stale
 * (so does test/unit/event-catalog.test.ts).
 */
export const CATALOG_PATH = 'docs/asyncapi.json';
export const STALE_MESSAGE = `${CATALOG_PATH} is out of date with common/events.ts; run \`npm run events:catalog\` and commit it`;

type JsonSchema = z.core.JSONSchema.JSONSchema;

/** The document's own version; each event type carries its schema version (x-schema-version). */
const CATALOG_VERSION = '1.0.0';
/** Defaults, not this process's environment, so the file is the same everywhere. */
const { EVENTS_SUBJECT_PREFIX: prefix, EVENTS_STREAM: stream } = loadConfig({});

/**
 * AsyncAPI 3.0 schemas are a superset of JSON Schema draft-07. `io: 'input'` because the output
 * side adds `additionalProperties: false` to every object, which would contradict the rule that
 * readers ignore fields they do not know.
 */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io: 'input' });
  return rest;
}

/** Paths (`payload.lines[].sku`) of the fields flagged `x-personal-data`. */
function personalDataPaths(schema: JsonSchema | boolean | undefined, path: string): string[] {
  if (typeof schema !== 'object') return [];
  const paths = schema['x-personal-data'] === true ? [path] : [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) paths.push(...personalDataPaths(child, path ? `${path}.${key}` : key));
  for (const item of [schema.items ?? []].flat()) paths.push(...personalDataPaths(item, `${path}[]`));
  for (const variant of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) paths.push(...personalDataPaths(variant, path));
  return [...new Set(paths)];
}

function messagePayload(type: EventType): JsonSchema {
  const envelope = jsonSchema(eventEnvelope);
  const fields = envelope.properties as Record<string, JsonSchema>;
  return {
    ...envelope,
    properties: {
      ...fields,
      type: { ...fields.type, const: type },
      schemaVersion: { ...fields.schemaVersion, const: eventSchemaVersions[type] },
      payload: jsonSchema(eventPayloads[type]),
    },
  };
}

function previousVersions(type: EventType) {
  return Object.entries(legacyEventVersions[type] ?? {})
    .map(([version, legacy]) => ({ version: Number(version), change: legacy.change, payload: jsonSchema(legacy.schema) }))
    .sort((a, b) => a.version - b.version);
}

function eventMessage(type: EventType) {
  const payload = messagePayload(type);
  return {
    name: type,
    title: type,
    contentType: 'application/json',
    correlationId: { description: 'Carried from the REST request that started the order', location: '$message.payload#/correlationId' },
    headers: {
      type: 'object',
      properties: {
        'Nats-Msg-Id': { type: 'string', format: 'uuid', description: 'The envelope id; JetStream drops a re-publish with the same id within EVENTS_DUPLICATE_WINDOW' },
        'X-Correlation-Id': { type: 'string', description: 'The envelope\'s correlationId (common/event-headers.ts)' },
        traceparent: { type: 'string', description: 'W3C trace context of the relay\'s publish span, when tracing is on: the consumer\'s span continues it' },
        tracestate: { type: 'string', description: 'W3C trace state, when the trace has one' },
      },
      required: ['Nats-Msg-Id', 'X-Correlation-Id'],
    },
    payload,
    'x-schema-version': eventSchemaVersions[type],
    'x-consumers': consumersOf(type),
    'x-personal-data-fields': personalDataPaths(payload, ''),
    'x-previous-versions': previousVersions(type),
  };
}

const consumers = consumerSubscriptions.map((c) => c.name).sort();

const deadLetterHeaders: Record<keyof typeof DLQ_HEADERS, string> = {
  consumer: 'Durable consumer that gave up on the event',
  reason: 'Why it failed: the parse error or the last handler error (one line, at most 2000 characters)',
  stream: 'Stream the event came from',
  streamSeq: 'Sequence of the event in that stream',
  subject: 'Subject the event was delivered on',
  deliveries: 'Deliveries before it was dead-lettered',
  eventType: 'Event type (the last subject token)',
};

const deadLetterMessage = {
  name: 'DeadLetter',
  title: 'Dead letter',
  summary: 'An event one consumer could not handle: the original bytes, with why in the headers',
  headers: {
    type: 'object',
    properties: Object.fromEntries(Object.entries(deadLetterHeaders).map(([key, description]) => [DLQ_HEADERS[key as keyof typeof DLQ_HEADERS], { type: 'string', description }])),
    required: Object.values(DLQ_HEADERS),
  },
  payload: { description: 'The original message bytes, unchanged: an event envelope, or whatever malformed data was received' },
};

type EventMessage = ReturnType<typeof eventMessage>;

function description(messages: Record<EventType, EventMessage>): string {
  const typesByPath = new Map<string, EventType[]>();
  for (const type of eventTypes) for (const path of messages[type]['x-personal-data-fields']) typesByPath.set(path, [...(typesByPath.get(path) ?? []), type]);
  const personal = [...typesByPath].map(([path, types]) => `${path} (${types.join(', ')})`);
  return [
    `Domain events of the order service, published by the outbox relay to the JetStream stream ${stream} on \`<prefix>.<EventType>\`. The prefix is configurable (EVENTS_SUBJECT_PREFIX); addresses here use the default \`${prefix}\`. Generated from common/events.ts by \`npm run events:catalog\`; do not edit by hand.`,
    'Envelope: every message is a JSON envelope (id, type, schemaVersion, occurredAt, orderId, correlationId, causationId) around a `payload` whose schema depends on type and schemaVersion.',
    'Ordering: events of one order are published in the order they happened, and each consumer handles one order\'s events one at a time, in stream order. There is no order across different orders.',
    'De-duplication: the event id is the Nats-Msg-Id, so the broker drops re-publishes within its duplicate window; consumers keep an inbox keyed by event id, so a redelivered or re-published event has no second effect. Delivery is at least once.',
    'Evolution: a new optional field, or one a reader can derive from the older version, is a new schema version of the same type, with an upcaster from the old one (x-previous-versions). Removing a field or changing its meaning is a new event type. Readers ignore fields they do not know (the schemas do not forbid extra properties) and treat an unknown event type as "not mine", never as an error.',
    `Personal data (flagged x-personal-data, listed per message in x-personal-data-fields): ${personal.join(', ') || 'none'}. No event carries card tokens.`,
  ].join('\n\n');
}

export function buildEventCatalog(): object {
  const messages = Object.fromEntries(eventTypes.map((type) => [type, eventMessage(type)])) as Record<EventType, EventMessage>;
  const deadLetterAddress = dlqSubject({ EVENTS_SUBJECT_PREFIX: prefix }, '{consumer}');
  return {
    asyncapi: '3.0.0',
    info: { title: 'Order events', version: CATALOG_VERSION, description: description(messages) },
    defaultContentType: 'application/json',
    channels: {
      ...Object.fromEntries(eventTypes.map((type) => [type, {
        address: eventSubject(prefix, type),
        title: type,
        description: `${type} events (address with the default prefix; configurable with EVENTS_SUBJECT_PREFIX).`,
        messages: { [type]: { $ref: `#/components/messages/${type}` } },
      }])),
      deadLetters: {
        address: deadLetterAddress,
        title: 'Dead letters',
        description: `Events a consumer could not handle (malformed, or still failing after CONSUMER_MAX_DELIVER deliveries), in the stream ${dlqStreamName({ EVENTS_STREAM: stream })}, kept until an operator replays or drops them (\`npm run ops -- help\`). A replay goes to \`${prefix}._replay.<consumer>.<EventType>\`, read by that consumer only.`,
        parameters: { consumer: { description: 'Durable consumer name', enum: consumers } },
        messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
      },
    },
    operations: {
      ...Object.fromEntries(eventTypes.map((type) => [`publish${type}`, {
        action: 'send',
        channel: { $ref: `#/channels/${type}` },
        summary: `The outbox relay publishes ${type} after the transaction that wrote it to the outbox committed.`,
        messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      }])),
      sendDeadLetter: {
        action: 'send',
        channel: { $ref: '#/channels/deadLetters' },
        summary: 'A consumer dead-letters an event it could not handle.',
        messages: [{ $ref: '#/channels/deadLetters/messages/DeadLetter' }],
      },
    },
    components: {
      messages: { ...messages, DeadLetter: deadLetterMessage },
    },
  };
}

export function renderEventCatalog(): string {
  return `${JSON.stringify(buildEventCatalog(), null, 2)}\n`;
}

export const catalogFile = join(__dirname, '..', '..', CATALOG_PATH);

function readCatalogFile(): string | null {
  try {
    return readFileSync(catalogFile, 'utf8');
  } catch {
    return null;
  }
}

if (require.main === module) {
  const expected = renderEventCatalog();
  if (process.argv.includes('--check')) {
    if (readCatalogFile() !== expected) {
      console.error(STALE_MESSAGE);
      process.exit(1);
    }
    console.log(`${CATALOG_PATH} is up to date`);
  } else {
    mkdirSync(dirname(catalogFile), { recursive: true });
    writeFileSync(catalogFile, expected);
    console.log(`wrote ${CATALOG_PATH}`);
  }
}
