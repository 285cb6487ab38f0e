import { loadConfig } from '../../common/config';
import { createPool, dbTimeouts } from '../../common/pg';
import { rebuildAnalytics, type RebuildProgress } from '../../workers/analytics-rebuild';
import type { OpsCommand } from './command';

/**
 * `ops analytics rebuild`: rebuilds the analytics read model from the events stream (see
 * workers/analytics-rebuild.ts). Safe while everything runs: readers see the old model until the
 * new one commits, and the live analytics consumer waits for it.
 */
async function rebuild(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.DATABASE_URL, dbTimeouts(config), 1, () => undefined); // the rebuild is one transaction: one connection
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  let lastDone = -1;
  const show = (p: RebuildProgress, final = false) => {
    const now = Date.now();
    if (!final && now - lastPrint < 250) return;
    if (final && p.done === lastDone) return;
    lastDone = p.done;
    lastPrint = now;
    const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
    const rate = Math.round(p.done / Math.max(0.001, (now - started) / 1000));
    const line = `rebuilding analytics: ${p.done}/${p.total} events (${pct}%), ${p.applied} applied, ${p.skipped} skipped, ${rate} events/s`;
    process.stderr.write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  try {
    const result = await rebuildAnalytics(config, pool, (p) => show(p, p.done === p.total));
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.ordersAfter} orders (was ${result.ordersBefore}), from stream ${config.EVENTS_STREAM} up to #${result.lastStreamSeq}`);
    for (const s of result.skippedEvents.slice(0, 20)) console.log(`skipped #${s.streamSeq}: ${s.reason}`);
    if (result.skippedEvents.length > 20) console.log(`… and ${result.skippedEvents.length - 20} more skipped`);
  } catch (err) {
    throw new Error(`failed, nothing changed: ${(err as Error).message}`);
  } finally {
    await pool.end();
  }
}

export const analyticsCommands: OpsCommand[] = [
  { name: 'analytics rebuild', args: '', summary: 'rebuild the analytics read model from the events stream, with progress', run: rebuild },
];
