import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The local tools (Temporal CLI, nats-server, Temporal's Java test server, Schemathesis, Zipkin), from
 * tools/ensure-tools.sh: built or fetched the first time, cached after that, versions pinned in
 * tools/versions.env. TEMPORAL_CLI_BIN, NATS_SERVER_BIN and TEMPORAL_TEST_SERVER_BIN in the
 * environment are checked and used instead.
 */

export type Tool = 'temporal' | 'nats' | 'test-server' | 'schemathesis' | 'zipkin';

const script = join(__dirname, '..', 'tools', 'ensure-tools.sh');

/**
 * Runs tools/ensure-tools.sh and returns the binary paths it prints, by variable name
 * (TEMPORAL_CLI_BIN, NATS_SERVER_BIN, TEMPORAL_TEST_SERVER_BIN). The script's progress and errors
 * go straight to our stderr, so a first, slow build shows on the terminal; its stdout carries only
 * the `export NAME='value'` lines. Rejects when the script fails (its reason is on stderr).
 * `quiet` captures the script's stderr instead and puts it in the error (for tests).
 */
export async function ensureTools(tools: Tool[], opts: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): Promise<Record<string, string>> {
  const child = spawn('bash', [script, ...tools, '--print-env'], {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  }).catch((err: Error) => {
    throw new Error(`Could not run tools/ensure-tools.sh (${tools.join(', ')}): ${err.message}`);
  });
  if (code !== 0) {
    const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
    const why = opts.quiet ? `:\n${stderr.trim()}` : '; its reason is printed above ([tools] ERROR …)';
    throw new Error(`Could not get the local tools (${tools.join(', ')}): tools/ensure-tools.sh ${how}${why}`);
  }
  return parseExports(stdout);
}

/** Parses `export NAME='value'` lines (values single-quoted as the script prints them, `'\''` for a quote). */
export function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export (\w+)=((?:'[^']*'|\\')+)$/gm)) {
    env[m[1]!] = m[2]!.replace(/'([^']*)'|\\'/g, (_all, quoted: string | undefined) => quoted ?? "'");
  }
  return env;
}
