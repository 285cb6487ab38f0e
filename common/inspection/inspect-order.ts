import { readDatabaseFacts } from './database-view';
import { diagnose } from './diagnosis';
import type { OrderInspection, Readout } from './inspection';
import { readPayment, readReservation } from './peer-records';
import type { InspectionSources } from './sources';
import { readDeadLetters, readStreamMessages } from './stream-view';
import { readWorkflow } from './workflow-view';

/**
 * The inspection of one order: every source read in parallel, each part that cannot be read
 * saying why instead of failing the whole, and the diagnosis last. The one join behind
 * `npm run ops -- inspect`, `ops stuck` and the operator endpoints.
 */

/** The status query waits at most this long: without a worker it would wait for the whole call deadline. */
const QUERY_TIMEOUT_MS = 3_000;

const unreadable = (what: string) => (err: unknown) => ({ unreadable: `${what}: ${(err as Error).message}` });

export interface InspectOptions {
  /** Temporal is known to be unreadable just now (why): its part says so without a call that would wait TEMPORAL_CALL_TIMEOUT. */
  temporalUnreadable?: string;
}

export async function inspectOrder(sources: InspectionSources, orderId: string, now = new Date(), opts: InspectOptions = {}): Promise<OrderInspection> {
  const { settings } = sources;
  const peers = sources.peers(); // first: a token not set fails the inspection, not one part
  const jetstream = sources.jetstream();
  jetstream.catch(() => undefined); // awaited below; a failed connect is reported per part
  const [database, workflow, payment, inventory, deadLetters] = await Promise.all([
    readDatabaseFacts(sources.db, orderId, now),
    opts.temporalUnreadable !== undefined
      ? { unreadable: opts.temporalUnreadable }
      : readWorkflow(sources.temporal, orderId, { callTimeoutMs: settings.TEMPORAL_CALL_TIMEOUT, queryTimeoutMs: Math.min(QUERY_TIMEOUT_MS, settings.TEMPORAL_CALL_TIMEOUT) }),
    readPayment(peers.payment, orderId),
    readReservation(peers.inventory, orderId),
    jetstream.then((jsm) => readDeadLetters(jsm, settings, orderId)).catch(unreadable('NATS (dead letters)')),
  ]);
  const stream: Readout<OrderInspection['stream'] & object> = await jetstream
    .then((jsm) => readStreamMessages(jsm, settings, database.outbox))
    .catch(unreadable('NATS (events stream)'));
  const facts = { orderId, inspectedAt: now.toISOString(), ...database, workflow, stream, deadLetters, payment, inventory };
  return { ...facts, diagnosis: diagnose(facts, now) };
}
