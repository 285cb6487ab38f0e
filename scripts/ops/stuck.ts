import { parseDuration } from '../../common/config';
import { findStuckOrders } from '../../common/inspection/stuck';
import { UsageError, type OpsCommand } from './command';
import { withInspectionSources } from './inspect';

/** `ops stuck --older-than 10m [--limit 50] [--json]` (common/inspection/stuck.ts). */
export const stuckCommands: OpsCommand[] = [{
  name: 'stuck', args: '[--older-than 10m] [--limit 50] [--json]', summary: 'orders not terminal past the threshold, or whose row and workflow disagree, with diagnoses',
  options: { 'older-than': { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  run: async (positionals, values) => {
    if (positionals.length > 0) throw new UsageError(`stuck takes no arguments, only options (got "${positionals.join(' ')}")`);
    let olderThanMs: number;
    try {
      olderThanMs = parseDuration((values['older-than'] as string | undefined) ?? '10m');
    } catch (err) {
      throw new UsageError(`--older-than: ${(err as Error).message}`);
    }
    const limit = Number((values.limit as string | undefined) ?? '50');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be a whole number from 1 to 500');
    const stuck = await withInspectionSources((sources) => findStuckOrders(sources, { olderThanMs, limit }));
    if (values.json) {
      console.log(JSON.stringify(stuck, null, 2));
      return;
    }
    for (const s of stuck) {
      console.log(`${s.orderId}  ${s.status}  ${Math.round(s.ageSeconds / 60)} min  ${s.why}\n  ${s.diagnosis}\n  npm run ops -- inspect ${s.orderId}   ${s.temporalUiUrl}`);
    }
    console.log(`${stuck.length} stuck order(s)${stuck.length === limit ? ` (the first ${limit}; raise --limit for more)` : ''}`);
  },
}];
