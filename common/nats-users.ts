import type { Config } from './config';
import { ConfigError } from './config';

/**
 * Who may do what on NATS: the single definition of our NATS users and their subject
 * permissions. The nats-server configuration of `npm run dev`, of `npm test` and of compose
 * (deploy/nats-server.conf) is written from here, and every process connects as one of these
 * users (common/nats.ts, connectNats).
 *
 * - `admin` provisions: it creates and updates the two streams (`npm run ops -- nats setup`, run
 *   by `npm run dev` and by compose's nats-setup job on every start), and runs
 *   `ops analytics rebuild` (it reads the whole stream through a consumer of its own). No
 *   long-running process holds it: a stream update can shorten retention and so delete events,
 *   which no relay or consumer should be able to do.
 * - `relay` publishes domain events (`<prefix>.<EventType>`, one token: not replays) and reads
 *   the events stream's info. Nothing else: it cannot consume, delete, or write dead letters.
 * - each consumer (`email`, `analytics`) creates/updates and reads only its own durable on the
 *   events stream (the durable's settings come from its own CONSUMER_* variables), acks only
 *   its own deliveries, reads the stream message its max-deliveries advisory names, and
 *   publishes only its own dead letters (`dlq.<prefix>.<consumer>`). It cannot publish events.
 * - `dlq` (the `ops dlq` commands) reads and deletes dead letters and publishes replays
 *   (`<prefix>._replay.<consumer>.<type>`); it cannot publish a new event.
 * - `inspector` (`ops inspect`, `ops stuck` and the API's operator inspection) only reads: the
 *   two streams' info and messages, and the consumers' info (their ack floors). It cannot
 *   publish, consume, ack or delete anything.
 *
 * Every user has its own reply-subject prefix (`_INBOX_<user>`): replies and pull deliveries
 * go there, so no user can subscribe to another's (a shared `_INBOX.>` would let the analytics
 * user read the email consumer's deliveries).
 */
export const CONSUMER_USERS = ['email', 'analytics'] as const;
export const NATS_USERS = ['admin', 'relay', ...CONSUMER_USERS, 'dlq', 'inspector'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The stream names and subject prefix permissions are written for; tests use wildcards (`*`). */
export interface NatsScope {
  stream: string;
  dlqStream: string;
  prefix: string;
}

export function natsScope(config: Pick<Config, 'EVENTS_STREAM' | 'EVENTS_SUBJECT_PREFIX'>): NatsScope {
  return { stream: config.EVENTS_STREAM, dlqStream: `${config.EVENTS_STREAM}_DLQ`, prefix: config.EVENTS_SUBJECT_PREFIX };
}

/** `npm test`: every test has its own `TEST_<id>` stream and `test.<id>` prefix (test/harness/system.ts, testConfig). */
export const TEST_NATS_SCOPE: NatsScope = { stream: '*', dlqStream: '*', prefix: 'test.*' };

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

export function inboxPrefix(user: string): string {
  return `_INBOX_${user}`;
}

const JS_API = '$JS.API';

export function natsPermissions(user: NatsUser, scope: NatsScope): NatsPermissions {
  const { stream, dlqStream, prefix } = scope;
  const inbox = `${inboxPrefix(user)}.>`;
  switch (user) {
    case 'admin':
      // It may read the events as they are published too (the benchmark waits for each order's end):
      // no more than its JetStream rights already give it.
      return { publish: [`${JS_API}.>`, `${prefix}.>`, `dlq.${prefix}.>`], subscribe: [inbox, `${prefix}.>`] };
    case 'relay':
      return { publish: [`${JS_API}.INFO`, `${JS_API}.STREAM.INFO.${stream}`, `${prefix}.*`], subscribe: [inbox] };
    case 'dlq':
      return {
        publish: [
          `${JS_API}.INFO`, `${JS_API}.STREAM.INFO.${dlqStream}`, `${JS_API}.STREAM.MSG.GET.${dlqStream}`, `${JS_API}.STREAM.MSG.DELETE.${dlqStream}`,
          `${prefix}._replay.*.*`,
        ],
        subscribe: [inbox],
      };
    case 'inspector':
      return {
        publish: [
          `${JS_API}.INFO`, `${JS_API}.STREAM.INFO.${stream}`, `${JS_API}.STREAM.INFO.${dlqStream}`,
          `${JS_API}.STREAM.MSG.GET.${stream}`, `${JS_API}.STREAM.MSG.GET.${dlqStream}`, `${JS_API}.CONSUMER.INFO.${stream}.*`,
        ],
        subscribe: [inbox],
      };
    case 'email':
    case 'analytics': {
      const durable = user;
      return {
        publish: [
          `${JS_API}.INFO`, `${JS_API}.STREAM.INFO.${stream}`, `${JS_API}.STREAM.INFO.${dlqStream}`, `${JS_API}.STREAM.MSG.GET.${stream}`,
          `${JS_API}.CONSUMER.CREATE.${stream}.${durable}`, `${JS_API}.CONSUMER.CREATE.${stream}.${durable}.>`,
          `${JS_API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
          `${JS_API}.CONSUMER.INFO.${stream}.${durable}`, `${JS_API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
          `$JS.ACK.${stream}.${durable}.>`,
          `dlq.${prefix}.${durable}`,
        ],
        subscribe: [inbox, `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`],
      };
    }
  }
}

/** The password a user has when nothing is set: `npm run dev` and `npm test` only. */
export function devNatsPassword(user: NatsUser): string {
  return `dev-nats-${user}`;
}

/** Compose: the variable that holds a user's password (in .env; the nats service and that user's process read it). */
export function natsPasswordVariable(user: NatsUser): string {
  return `NATS_${user.toUpperCase()}_PASSWORD`;
}

type CredentialSettings = Pick<Config, 'NATS_USER' | 'NATS_PASSWORD'>;

/**
 * The user a process connects as: NATS_USER if set, else the one for its role; NATS_PASSWORD
 * if set, else that user's dev password, which production (NODE_ENV=production) refuses.
 */
export function natsCredentials(config: CredentialSettings, role: NatsUser, nodeEnv = process.env.NODE_ENV): { user: string; pass: string } {
  const user = config.NATS_USER ?? role;
  if (nodeEnv === 'production' && (config.NATS_PASSWORD === undefined || config.NATS_PASSWORD.startsWith('dev-'))) {
    throw new ConfigError(`NATS_PASSWORD is ${config.NATS_PASSWORD === undefined ? 'not set' : 'a dev default'} for NATS user "${user}" while NODE_ENV=production: set it to that user's password (compose: ${natsPasswordVariable(role)} in .env).`);
  }
  return { user, pass: config.NATS_PASSWORD ?? devNatsPassword(role) };
}

/** The NATS user of a consumer: its durable name, which must be one of CONSUMER_USERS. */
export function consumerUser(durable: string): NatsUser {
  const user = CONSUMER_USERS.find((u) => u === durable);
  if (!user) throw new Error(`No NATS user for consumer "${durable}": add it to CONSUMER_USERS in common/nats-users.ts (permissions for its own durable only).`);
  return user;
}
