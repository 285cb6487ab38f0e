import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { ENCRYPTED_ENCODING, payloadFromJson, payloadToJson, type JsonPayload } from '../../common/temporal-codec';
import { testPayloadCodec } from './temporal';

/** Recorded histories that the replay test runs against the current workflow code. */
export const HISTORIES_DIR = join(__dirname, '..', 'replay', 'histories');

/**
 * With RECORD_HISTORIES=1, the workflow tests save the history of each path they run here
 * (`RECORD_HISTORIES=1 npm test -- test/workflows`). Record new ones when adding a path;
 * never re-record existing ones to make a change pass: they stand for executions already out there.
 * So a history already there is left as it is: only new paths are written. Payloads are saved
 * decrypted (as histories from before the codec are), so the files stay readable and need no key.
 */
export async function maybeRecordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const file = join(HISTORIES_DIR, `${name}.json`);
  if (existsSync(file)) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
  writeFileSync(file, JSON.stringify(await decodePayloadsIn(history, testPayloadCodec()), null, 2) + '\n');
}

const isEncryptedJsonPayload = (v: unknown): v is JsonPayload => {
  const encoding = (v as JsonPayload | null)?.metadata?.encoding;
  return typeof encoding === 'string' && Buffer.from(encoding, 'base64').toString('utf8') === ENCRYPTED_ENCODING;
};

/** A history in proto JSON with every encrypted payload in it replaced by its decoded form. */
export async function decodePayloadsIn(node: unknown, codec: PayloadCodec): Promise<unknown> {
  if (isEncryptedJsonPayload(node)) return payloadToJson((await codec.decode([payloadFromJson(node)]))[0]!);
  if (Array.isArray(node)) return Promise.all(node.map((item) => decodePayloadsIn(item, codec)));
  if (node && typeof node === 'object') {
    const entries = await Promise.all(Object.entries(node).map(async ([k, v]) => [k, await decodePayloadsIn(v, codec)] as const));
    return Object.fromEntries(entries);
  }
  return node;
}

/** A workflow's history in proto JSON, its payloads decrypted: what an operator with the key reads. */
export async function decodedHistoryOf(handle: WorkflowHandle): Promise<unknown> {
  return decodePayloadsIn(JSON.parse(historyToJSON(await handle.fetchHistory())), testPayloadCodec());
}

/**
 * Everything a history's payloads say (proto JSON, as historyToJSON or decodedHistoryOf give it),
 * decoded from their base64 `data` and joined, to search for what must not be there.
 */
export function payloadTextOf(historyJson: unknown): string {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const { metadata, data } = node as { metadata?: unknown; data?: unknown };
    if (metadata && typeof data === 'string') texts.push(Buffer.from(data, 'base64').toString('utf8'));
    Object.values(node).forEach(walk);
  };
  walk(historyJson);
  return texts.join('\n');
}
