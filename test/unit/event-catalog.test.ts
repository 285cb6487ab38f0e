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

  it('flags customerEmail as personal data in OrderConfirmed and OrderCancelled only', () => {
    const withPersonalData = eventTypes.filter((type) => messages[type]!['x-personal-data-fields'].length > 0);
    expect(withPersonalData.sort()).toEqual(['OrderCancelled', 'OrderConfirmed']);
    expect(messages.OrderConfirmed!['x-personal-data-fields']).toEqual(['payload.customerEmail']);
    expect(messages.OrderCancelled!['x-personal-data-fields']).toEqual(['payload.customerEmail']);
  });

  it.each(eventTypes)('requires every envelope field in %s', (type) => {
    expect(messages[type]!.payload.required).toEqual(expect.arrayContaining(['id', 'type', 'schemaVersion', 'occurredAt', 'orderId', 'correlationId', 'causationId', 'payload']));
  });
});
