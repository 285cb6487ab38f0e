import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Config } from '../common/config';
import { dlqStreamName, dlqSubject, replaySubject } from '../common/nats';
import { redactEmailAddresses } from '../common/personal-data';

/**
 * Dead letters: events a consumer could not handle (malformed, or still failing after
 * CONSUMER_MAX_DELIVER deliveries). Each is kept in the `<EVENTS_STREAM>_DLQ` stream with the
 * original bytes and why it failed, until an operator replays it (after a fix) or drops it:
 * `npm run ops -- dlq list | show <seq> | replay <seq>|--all | drop <seq>` (scripts/ops/dlq.ts).
 *
 * A replay goes to `<prefix>._replay.<consumer>.<type>`, which only that consumer's durable
 * reads, so other consumers do not see the event again.
 *
 * A reason never holds an email address: it is redacted when stored, and again when read, for
 * dead letters stored before that (an SMTP error quoted the recipient). Readers: `ops dlq`, the
 * operator inspection and its diagnosis.
 */
type DlqSettings = Pick<Config, 'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX'>;

export const DLQ_HEADERS = {
  consumer: 'Dlq-Consumer',
  reason: 'Dlq-Reason',
  stream: 'Dlq-Stream',
  streamSeq: 'Dlq-Stream-Seq',
  subject: 'Dlq-Subject',
  deliveries: 'Dlq-Deliveries',
  eventType: 'Dlq-Event-Type',
} as const;

export interface DeadLetterInput {
  consumer: string;
  reason: string;
  /** The original message: its stream, sequence there, subject, bytes and delivery count. */
  stream: string;
  streamSeq: number;
  subject: string;
  deliveries: number;
  data: Uint8Array;
}

export interface DeadLetter extends Omit<DeadLetterInput, 'data'> {
  seq: number;
  failedAt: Date;
  eventType: string;
  data: Uint8Array;
}

/** The last subject token is the event type (for both normal and replay subjects). */
function eventTypeOf(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/**
 * Stores one dead letter. The Nats-Msg-Id is the consumer plus the original stream sequence, so
 * two processes (or the advisory backstop and the handler) recording the same failure store it
 * once.
 */
export async function sendToDeadLetters(js: JetStreamClient, config: DlqSettings, input: DeadLetterInput): Promise<void> {
  const h = natsHeaders();
  h.set(DLQ_HEADERS.consumer, input.consumer);
  // Header values are one line; keep the reason readable but bounded.
  h.set(DLQ_HEADERS.reason, redactEmailAddresses(input.reason.replace(/[\r\n]+/g, ' ')).slice(0, 2_000));
  h.set(DLQ_HEADERS.stream, input.stream);
  h.set(DLQ_HEADERS.streamSeq, String(input.streamSeq));
  h.set(DLQ_HEADERS.subject, input.subject);
  h.set(DLQ_HEADERS.deliveries, String(input.deliveries));
  h.set(DLQ_HEADERS.eventType, eventTypeOf(input.subject));
  await js.publish(dlqSubject(config, input.consumer), input.data, { headers: h, msgID: `dlq:${input.consumer}:${input.stream}:${input.streamSeq}` });
}

function toDeadLetter(msg: StoredMsg): DeadLetter {
  const h = msg.header;
  return {
    seq: msg.seq,
    failedAt: msg.time,
    consumer: h.get(DLQ_HEADERS.consumer),
    reason: redactEmailAddresses(h.get(DLQ_HEADERS.reason)),
    stream: h.get(DLQ_HEADERS.stream),
    streamSeq: Number(h.get(DLQ_HEADERS.streamSeq)),
    subject: h.get(DLQ_HEADERS.subject),
    deliveries: Number(h.get(DLQ_HEADERS.deliveries)),
    eventType: h.get(DLQ_HEADERS.eventType),
    data: msg.data,
  };
}

async function getStored(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(stream, { seq });
  } catch (err) {
    if (/no message found|message not found/i.test((err as Error).message)) return null;
    throw err;
  }
}

export async function getDeadLetter(jsm: JetStreamManager, config: DlqSettings, seq: number): Promise<DeadLetter | null> {
  const msg = await getStored(jsm, dlqStreamName(config), seq);
  return msg ? toDeadLetter(msg) : null;
}

/** Every dead letter still in the stream, oldest first, optionally for one consumer. */
export async function listDeadLetters(jsm: JetStreamManager, config: DlqSettings, filter: { consumer?: string } = {}): Promise<DeadLetter[]> {
  const info = await jsm.streams.info(dlqStreamName(config));
  const { first_seq: first, last_seq: last, messages } = info.state;
  const letters: DeadLetter[] = [];
  for (let seq = first; seq <= last && messages > 0; seq += 1) {
    const letter = await getDeadLetter(jsm, config, seq);
    if (letter && (!filter.consumer || letter.consumer === filter.consumer)) letters.push(letter);
  }
  return letters;
}

export async function deadLetterCount(jsm: JetStreamManager, config: DlqSettings): Promise<number> {
  return (await jsm.streams.info(dlqStreamName(config))).state.messages;
}

/**
 * Sends a dead letter back to its consumer (only that one) and removes it from the dead-letter
 * stream once the broker has the replay. Replaying the same dead letter twice within the
 * duplicate window is dropped by the broker; later, the consumer's inbox ignores it.
 */
export async function replayDeadLetter(js: JetStreamClient, jsm: JetStreamManager, config: DlqSettings, seq: number): Promise<DeadLetter> {
  const letter = await getDeadLetter(jsm, config, seq);
  if (!letter) throw new Error(`No dead letter with sequence ${seq} in ${dlqStreamName(config)}; run \`npm run dlq -- list\` to see what is there.`);
  await js.publish(replaySubject(config, letter.consumer, letter.eventType), letter.data, { msgID: `replay:${dlqStreamName(config)}:${seq}` });
  await jsm.streams.deleteMessage(dlqStreamName(config), seq, false);
  return letter;
}

export async function dropDeadLetter(jsm: JetStreamManager, config: DlqSettings, seq: number): Promise<boolean> {
  return jsm.streams.deleteMessage(dlqStreamName(config), seq, false);
}
