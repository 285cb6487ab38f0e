import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '../common/config';
import { connectNats, dlqStreamName, ensureDeadLetterStream, natsManager } from '../common/nats';
import { dropDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter, type DeadLetter } from '../workers/dead-letters';

/**
 * Operator's tool for the dead-letter stream (see workers/dead-letters.ts):
 *   npm run dlq -- list [--consumer email]
 *   npm run dlq -- show <seq>
 *   npm run dlq -- replay <seq> [<seq> ...] | --all [--consumer email]
 *   npm run dlq -- drop <seq>
 * Uses NATS_URL, EVENTS_STREAM and EVENTS_SUBJECT_PREFIX like every other process.
 */
const USAGE = `usage: npm run dlq -- <command>
  list [--consumer <name>]              dead letters, oldest first
  show <seq>                            one dead letter: why it failed, and the event
  replay <seq>... | --all [--consumer]  send back to its consumer (only that one) after a fix
  drop <seq>                            delete without replaying`;

function orderIdOf(letter: DeadLetter): string {
  try {
    const parsed = JSON.parse(Buffer.from(letter.data).toString('utf8')) as { orderId?: unknown; id?: unknown };
    return typeof parsed.orderId === 'string' ? parsed.orderId : '?';
  } catch {
    return '(not JSON)';
  }
}

function printList(letters: DeadLetter[]): void {
  if (letters.length === 0) {
    console.log('no dead letters');
    return;
  }
  const rows = letters.map((l) => [String(l.seq), l.failedAt.toISOString(), l.consumer, l.eventType, orderIdOf(l), String(l.deliveries), l.reason.slice(0, 80)]);
  const header = ['seq', 'failed at', 'consumer', 'event type', 'order', 'deliveries', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  console.log(`${letters.length} dead letter(s)`);
}

function printOne(letter: DeadLetter): void {
  const body = Buffer.from(letter.data).toString('utf8');
  let pretty = body;
  try { pretty = JSON.stringify(JSON.parse(body), null, 2); } catch { /* show the raw bytes as text */ }
  console.log([
    `seq:         ${letter.seq}`, `failed at:   ${letter.failedAt.toISOString()}`, `consumer:    ${letter.consumer}`,
    `event type:  ${letter.eventType}`, `from:        ${letter.stream} #${letter.streamSeq} (${letter.subject})`,
    `deliveries:  ${letter.deliveries}`, `reason:      ${letter.reason}`, 'event:', pretty,
  ].join('\n'));
}

function seqArg(value: string | undefined): number {
  const seq = Number(value);
  if (!Number.isInteger(seq) || seq <= 0) throw new UsageError(`"${value ?? ''}" is not a dead-letter sequence number (see \`npm run dlq -- list\`)`);
  return seq;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { consumer: { type: 'string' }, all: { type: 'boolean' } } });
  const [command, ...rest] = positionals;
  if (!command || command === 'help') { console.log(USAGE); return; }
  const config = loadConfig();
  const nc = await connectNats(config.NATS_URL, 'dlq-cli');
  try {
    const jsm = await natsManager(nc);
    const js = jetstream(nc);
    await ensureDeadLetterStream(jsm, config);
    switch (command) {
      case 'list':
        printList(await listDeadLetters(jsm, config, { consumer: values.consumer }));
        return;
      case 'show': {
        const letter = await getDeadLetter(jsm, config, seqArg(rest[0]));
        if (!letter) throw new UsageError(`no dead letter #${rest[0]} in ${dlqStreamName(config)}`);
        printOne(letter);
        return;
      }
      case 'replay': {
        const seqs = values.all ? (await listDeadLetters(jsm, config, { consumer: values.consumer })).map((l) => l.seq) : rest.map(seqArg);
        if (seqs.length === 0) throw new UsageError(values.all ? 'nothing to replay' : 'give the sequence numbers to replay, or --all');
        for (const seq of seqs) {
          const letter = await replayDeadLetter(js, jsm, config, seq);
          console.log(`replayed #${seq} (${letter.eventType} from ${letter.stream} #${letter.streamSeq}) to ${letter.consumer}`);
        }
        return;
      }
      case 'drop': {
        const seq = seqArg(rest[0]);
        if (!(await dropDeadLetter(jsm, config, seq))) throw new UsageError(`no dead letter #${seq}`);
        console.log(`dropped #${seq}`);
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } finally {
    await nc.drain();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof UsageError ? err.message : `dlq: ${(err as Error).message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
