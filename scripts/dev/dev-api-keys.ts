import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey, verifyApiKey } from '../../api/api-keys';
import { createDb } from '../../common/db';

/**
 * The API keys `npm run dev` prints: a shop's (client `dev-shop`) and an operator's (client
 * `dev-operator`). Kept in <data dir>/dev-api-keys.json (readable by this user only) and reused
 * across restarts while they still work, so curl commands and scripts keep working; made anew
 * when the file is missing or a key was revoked or the database reset.
 */
export interface DevApiKeys {
  shop: string;
  operator: string;
}

export const DEV_SHOP_CLIENT = 'dev-shop';
export const DEV_OPERATOR_CLIENT = 'dev-operator';

export function devApiKeysFile(dataDir: string): string {
  return join(dataDir, 'dev-api-keys.json');
}

export async function ensureDevApiKeys(databaseUrl: string, dataDir: string): Promise<DevApiKeys> {
  const file = devApiKeysFile(dataDir);
  const db = createDb(databaseUrl);
  try {
    const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevApiKeys>) : {};
    const stillWorks = async (key: string | undefined, clientId: string) =>
      key !== undefined && (await verifyApiKey(db, key))?.clientId === clientId ? key : undefined;
    const keys: DevApiKeys = {
      shop: await stillWorks(kept.shop, DEV_SHOP_CLIENT) ?? (await createApiKey(db, DEV_SHOP_CLIENT, 'shop')).key,
      operator: await stillWorks(kept.operator, DEV_OPERATOR_CLIENT) ?? (await createApiKey(db, DEV_OPERATOR_CLIENT, 'operator')).key,
    };
    if (keys.shop !== kept.shop || keys.operator !== kept.operator) writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
    return keys;
  } finally {
    await db.$disconnect();
  }
}
