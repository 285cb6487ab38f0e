import { API_SCOPES, ApiKeyError, createApiKey, listApiKeys, revokeApiKey, type Scope } from '../../api/api-keys';
import { loadConfig } from '../../common/config';
import { createDb, dbTimeouts, type Db } from '../../common/db';
import { UsageError, type OpsCommand } from './command';

/**
 * `ops apikey create|revoke|list`: the API keys shops and operators call the API with
 * (api/api-keys.ts). A key is shown once, when it is created, alone on the last line of the
 * output (scripts can take it with `tail -n 1`); only its hash is stored.
 */
async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = createDb(config.DATABASE_URL, dbTimeouts(config));
  try {
    return await work(db);
  } catch (err) {
    if (err instanceof ApiKeyError) throw new UsageError(err.message);
    throw err;
  } finally {
    await db.$disconnect();
  }
}

async function create(_positionals: string[], values: Record<string, unknown>): Promise<void> {
  const clientId = values.client;
  if (typeof clientId !== 'string') throw new UsageError('apikey create: --client <id> is required (the shop or operator the key is for)');
  const scope = (values.scope ?? 'shop') as Scope;
  if (!API_SCOPES.includes(scope)) throw new UsageError(`apikey create: --scope must be one of ${API_SCOPES.join(', ')}`);
  const created = await withDb((db) => createApiKey(db, clientId, scope));
  console.log(`created API key ook_${created.keyId} for client ${created.clientId}, scope ${created.scope}.`);
  console.log('It is shown only now; store it safely. Send it as "Authorization: Bearer <key>". Revoke: apikey revoke ook_' + created.keyId);
  console.log(created.key);
}

async function revoke(positionals: string[]): Promise<void> {
  const [keyOrId] = positionals;
  if (!keyOrId || positionals.length > 1) throw new UsageError('apikey revoke: give one key id (ook_…, see apikey list) or the key itself');
  const revoked = await withDb((db) => revokeApiKey(db, keyOrId));
  console.log(revoked.alreadyRevoked
    ? `API key ook_${revoked.keyId} of client ${revoked.clientId} was already revoked at ${revoked.revokedAt.toISOString()}.`
    : `revoked API key ook_${revoked.keyId} of client ${revoked.clientId}; requests with it are refused from now on.`);
}

async function list(_positionals: string[], values: Record<string, unknown>): Promise<void> {
  const keys = await withDb((db) => listApiKeys(db, typeof values.client === 'string' ? values.client : undefined));
  if (keys.length === 0) return console.log('no API keys');
  for (const k of keys) {
    const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
    console.log(`ook_${k.id}  client ${k.clientId}  scope ${k.scope}  created ${k.createdAt.toISOString()}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}  ${state}`);
  }
}

export const apiKeyCommands: OpsCommand[] = [
  {
    name: 'apikey create', args: '--client <id> [--scope shop|operator]', summary: 'new API key for a client (printed once, alone on the last line)',
    options: { client: { type: 'string' }, scope: { type: 'string' } }, run: create,
  },
  { name: 'apikey revoke', args: '<key id or key>', summary: 'revoke an API key at once', run: revoke },
  { name: 'apikey list', args: '[--client <id>]', summary: 'API keys (ids, clients, scopes, last use; never the keys)', options: { client: { type: 'string' } }, run: list },
];
