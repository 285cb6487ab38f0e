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

/**
 * Everything a history's payloads say, decoded from their base64 `data` and joined: what anyone
 * who can read the history (Web UI, CLI, an export) can read, to search for what must not be there.
 */
export function payloadTextOf(history: Parameters<typeof historyToJSON>[0]): string {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const { metadata, data } = node as { metadata?: unknown; data?: unknown };
    if (metadata && typeof data === 'string') texts.push(Buffer.from(data, 'base64').toString('utf8'));
    Object.values(node).forEach(walk);
  };
  walk(JSON.parse(historyToJSON(history)));
  return texts.join('\n');
}
