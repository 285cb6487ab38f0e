import { beginRun, killRunProcesses } from './run-marker';

/**
 * Runs a script that starts a system of its own (chaos, fuzz, bench) as the owner of a run: its
 * exit code is main's, a crash prints `[tag] failed: …` and exits 1, and SIGINT/SIGTERM kill
 * everything the run started (scripts/infra/run-marker.ts) and exit 130.
 */
export function runAsScript(tag: string, main: () => Promise<number | void>): void {
  beginRun();
  let exiting = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (exiting) return;
      exiting = true;
      console.error(`[${tag}] ${signal}: stopping everything this run started`);
      killRunProcesses();
      process.exit(130);
    });
  }
  main().then((code) => process.exit(code ?? 0), (err: unknown) => {
    console.error(`[${tag}] failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
