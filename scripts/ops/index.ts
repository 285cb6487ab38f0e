import { parseArgs } from 'node:util';
import { analyticsCommands } from './analytics';
import { apiKeyCommands } from './apikey';
import { UsageError, type OpsCommand } from './command';
import { customerCommands } from './customer';
import { dlqCommands } from './dlq';
import { inspectCommands } from './inspect';
import { natsCommands } from './nats';
import { stuckCommands } from './stuck';

/**
 * The operator's tools, one entry: `npm run ops -- <command>`, or in a production build
 * `node dist/scripts/ops/index.js <command>` (plain node: nothing here needs tsx or a dev-only
 * package). `npm run ops -- help` lists every command. Each process setting comes from the
 * environment, as for every other process (common/config.ts).
 */
const commands: OpsCommand[] = [
  ...dlqCommands,
  ...analyticsCommands,
  ...natsCommands,
  ...customerCommands,
  ...apiKeyCommands,
  ...inspectCommands,
  ...stuckCommands,
  { name: 'help', args: '', summary: 'this list', run: async () => console.log(usage()) },
];

function usage(): string {
  const rows = commands.map((c) => [`${c.name} ${c.args}`.trim(), c.summary]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  return [
    'usage: npm run ops -- <command>     (production build: node dist/scripts/ops/index.js <command>)',
    ...rows.map(([left, summary]) => `  ${left!.padEnd(width)}  ${summary}`),
    'Settings come from the environment like every other process: NATS_URL, EVENTS_STREAM and',
    'EVENTS_SUBJECT_PREFIX for dlq and nats; DATABASE_URL for analytics, customer and apikey. NATS user: dlq for',
    'dlq, admin for nats setup and analytics rebuild, inspector for inspect and stuck (NATS_USER/NATS_PASSWORD;',
    'dev defaults if unset). inspect and stuck also read Postgres, Temporal (TEMPORAL_ADDRESS) and the peers',
    '(INVENTORY_TOKEN / PAYMENT_TOKEN: the tools caller).',
  ].join('\n');
}

/** The command named by the first words of argv, and the arguments after its name. */
function findCommand(argv: string[]): { command: OpsCommand; rest: string[] } {
  const words = argv.slice(0, 2);
  // `ops`, `ops dlq` and `ops dlq help` (what `npm run dlq -- help` becomes) print the list.
  if (words.length === 0 || words.includes('help') || (words.length === 1 && commands.some((c) => c.name.startsWith(`${words[0]} `)))) {
    return { command: commands.find((c) => c.name === 'help')!, rest: [] };
  }
  for (const command of commands) {
    const length = command.name.split(' ').length;
    if (argv.slice(0, length).join(' ') === command.name) return { command, rest: argv.slice(length) };
  }
  throw new UsageError(`unknown command "${words.join(' ')}"`);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return;
  }
  const { command, rest } = findCommand(argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command.name}: ${(err as Error).message}`);
  }
  try {
    await command.run(parsed.positionals, parsed.values);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw Object.assign(new Error(`${command.name}: ${(err as Error).message}`), { cause: err });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usageError = err instanceof UsageError;
  console.error(usageError ? `${err.message}\n\n${usage()}` : (err as Error).message);
  process.exit(usageError ? 2 : 1);
});
