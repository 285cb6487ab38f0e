/** What an operator command is made of (scripts/ops/index.ts lists them all). */

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface OpsCommand {
  /** The words that select it, e.g. `dlq list`. */
  name: string;
  /** Its arguments and options, for the help, e.g. `[--consumer <name>]`. */
  args: string;
  /** One line for the help. */
  summary: string;
  /** Options it accepts (node:util parseArgs); any other is a usage error. */
  options?: Record<string, { type: 'string' | 'boolean' }>;
  run(positionals: string[], values: OptionValues): Promise<void>;
}

/** A mistake in the command line (exit code 2): printed without a stack, with a hint to `help`. */
export class UsageError extends Error {}
