import { existsSync, readFileSync } from 'node:fs';
import { eventTypes } from '../../common/events';
import { buildEventCatalog, catalogFile, renderEventCatalog, STALE_MESSAGE } from '../../scripts/dev/events-catalog';

interface Message {
  payload: { required: string[] };
  'x-personal-data-fields': string[];
  'x-previous-versions': { version: number; change: string; payload: object }[];
}

interface Catalog {
  channels: Record<string, { address: string }>;
  components: { messages: Record<string, Message> };
}

describe('event catalog (docs/asyncapi.json)', () => {
  const catalog = buildEventCatalog() as Catalog;
  const messages = catalog.components.messages;

  it('is checked in and up to date with common/events.ts', () => {
    const onDisk = existsSync(catalogFile) ? readFileSync(catalogFile, 'utf8') : '';
    if (onDisk !== renderEventCatalog()) throw new Error(STALE_MESSAGE);
    expect(JSON.parse(onDisk)).toEqual(buildEventCatalog());
  });

  it('has a channel and a message for every event type', () => {
    for (const type of eventTypes) {
      expect(catalog.channels[type]?.address).toBe(`orders.events.${type}`);
      expect(messages[type]).toBeDefined();
    }
  });

  it('lists the older OrderPlaced version with its change', () => {
    expect(messages.OrderPlaced?.['x-previous-versions']).toEqual([
      expect.objectContaining({ version: 1, change: expect.stringContaining('itemCount'), payload: expect.any(Object) }),
    ]);
  });

  it('flags no personal data in any current event; the older OrderConfirmed and OrderCancelled v1 carried customerEmail', () => {
    for (const type of eventTypes) expect([type, messages[type]!['x-personal-data-fields']]).toEqual([type, []]);
    for (const type of ['OrderConfirmed', 'OrderCancelled']) {
      const [v1] = messages[type]!['x-previous-versions'];
      expect(v1).toMatchObject({ version: 1, change: expect.stringContaining('drops customerEmail') });
      expect(JSON.stringify(v1!.payload)).toContain('"customerEmail"');
      expect(messages[type]!.payload.required).toEqual(expect.arrayContaining(['payload']));
    }
  });

  it.each(eventTypes)('requires every envelope field in %s', (type) => {
    expect(messages[type]!.payload.required).toEqual(expect.arrayContaining(['id', 'type', 'schemaVersion', 'occurredAt', 'orderId', 'correlationId', 'causationId', 'payload']));
  });
});
