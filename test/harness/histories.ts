import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Recorded histories that the replay test runs against the current workflow code. */
export const HISTORIES_DIR = join(__dirname, '..', 'replay', 'histories');

/**
 * With RECORD_HISTORIES=1, the workflow tests save the history of each path they run here
 * (`RECORD_HISTORIES=1 npm test -- test/workflows`). Record new ones when adding a path;
 * never re-record existing ones to make a change pass: they stand for executions already out there.
 * So a history already there is left as it is: only new paths are written.
 */
export async function maybeRecordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const file = join(HISTORIES_DIR, `${name}.json`);
  if (existsSync(file)) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(file, historyToJSON(await handle.fetchHistory()) + '\n');
}
