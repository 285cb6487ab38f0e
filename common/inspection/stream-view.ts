import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { Config } from '../config';
import { allEventsSubject } from '../nats';
import { consumersOf } from '../../workers/subscriptions';
import { listDeadLetters } from '../../workers/dead-letters';
import type { DeadLetterView, OutboxView, StreamView } from './inspection';

/**
 * The order's messages on the events stream and its dead letters, read as the read-only
 * `inspector` NATS user (common/nats-users.ts). Subjects do not name the order, so its messages
 * are found by their Nats-Msg-Id (the event id, set by the relay): from the first message at or
 * after the order's first event (a binary search over the stream's times), reading forward until
 * every published event is found or MAX_SCAN messages were read.
 */
type StreamSettings = Pick<Config, 'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX'>;

/** Messages read at most after the order's first event; in a busy stream others' events are in between. */
export const MAX_SCAN = 5_000;

/** The next domain event at or after `seq` (replays and gaps skipped), or null past the end. */
function nextEvent(jsm: JetStreamManager, settings: StreamSettings, seq: number): Promise<StoredMsg | null> {
  // STREAM.MSG.GET takes next_by_subj; the client's type lists only seq / last_by_subj.
  return jsm.streams.getMessage(settings.EVENTS_STREAM, { seq, next_by_subj: allEventsSubject(settings) } as unknown as { seq: number });
}

/** The first stream sequence whose message is not older than `from`. */
async function firstSeqAtOrAfter(jsm: JetStreamManager, settings: StreamSettings, first: number, last: number, from: Date): Promise<number> {
  let low = first;
  let high = last + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const msg = await nextEvent(jsm, settings, mid);
    if (!msg) high = mid;
    else if (msg.time < from) low = msg.seq + 1;
    else high = mid;
  }
  return low;
}

export async function readStreamMessages(jsm: JetStreamManager, settings: StreamSettings, outbox: OutboxView[]): Promise<StreamView> {
  const stream = settings.EVENTS_STREAM;
  const wanted = new Map(outbox.filter((e) => e.publishedAt !== null).map((e) => [e.eventId, e]));
  if (wanted.size === 0) return { stream, messages: [], notFound: [] };
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(stream)).state;
  const ackFloors = new Map<string, number>();
  for (const consumer of new Set([...wanted.values()].flatMap((e) => consumersOf(e.type)))) {
    const info = await jsm.consumers.info(stream, consumer).catch(() => null);
    ackFloors.set(consumer, info?.ack_floor.stream_seq ?? 0);
  }
  const from = new Date(Math.min(...[...wanted.values()].map((e) => new Date(e.occurredAt).getTime())) - 1_000);
  const messages: StreamView['messages'] = [];
  let seq = await firstSeqAtOrAfter(jsm, settings, first, last, from);
  for (let scanned = 0; messages.length < wanted.size && seq <= last && scanned < MAX_SCAN; scanned += 1) {
    const msg = await nextEvent(jsm, settings, seq);
    if (!msg) break;
    const event = wanted.get(msg.header?.get('Nats-Msg-Id') ?? '');
    if (event) {
      messages.push({
        eventId: event.eventId, type: event.type, streamSeq: msg.seq, publishedAt: msg.time.toISOString(),
        // The ack floor: everything at or below it is acknowledged (a message above it may be too, out of order).
        acknowledgedBy: Object.fromEntries(consumersOf(event.type).map((c) => [c, msg.seq <= (ackFloors.get(c) ?? 0)])),
      });
    }
    seq = msg.seq + 1;
  }
  const found = new Set(messages.map((m) => m.eventId));
  return { stream, messages, notFound: [...wanted.keys()].filter((id) => !found.has(id)) };
}

function orderIdIn(data: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { orderId?: unknown };
    return typeof parsed.orderId === 'string' ? parsed.orderId : undefined;
  } catch {
    return undefined;
  }
}

export async function readDeadLetters(jsm: JetStreamManager, settings: StreamSettings, orderId: string): Promise<DeadLetterView[]> {
  return (await listDeadLetters(jsm, settings)).filter((l) => orderIdIn(l.data) === orderId).map((l) => ({
    seq: l.seq, consumer: l.consumer, eventType: l.eventType, failedAt: l.failedAt.toISOString(), deliveries: l.deliveries, reason: l.reason,
  }));
}
