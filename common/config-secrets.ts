import { z } from 'zod';
import { ConfigError } from './config-error';

/**
 * The secrets among the settings (common/config.ts): how its schema marks one, what counts as a
 * development value, and what a production start does with them; and the peers' caller tokens.
 */

/**
 * Peer-service credentials (inventory, payment): each caller of a peer presents its own shared
 * secret as `Authorization: Bearer <token>`. The dev defaults start with `dev-` so a production
 * start can tell them apart; `npm run dev` hands the API and the worker their own (DEV_PEER_TOKENS).
 */
export const DEV_PEER_TOKENS = {
  inventory: { api: 'dev-inventory-token-api', worker: 'dev-inventory-token-worker', tools: 'dev-inventory-token-tools' },
  payment: { api: 'dev-payment-token-api', worker: 'dev-payment-token-worker', tools: 'dev-payment-token-tools' },
} as const;

const CALLER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** 16+ visible ASCII characters without "," or ":" (they separate the pairs). */
export const peerToken = z.string().regex(/^[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}$/, 'must be 16-256 visible ASCII characters without "," or ":"');

/** `caller:token,caller:token` → caller by name; every caller and every token once. */
export const callerTokens = z.string().transform((spec, ctx): ReadonlyMap<string, string> => {
  const callers = new Map<string, string>();
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [caller = '', token = '', ...rest] = pair.split(':');
    if (!CALLER_NAME.test(caller) || rest.length > 0 || !peerToken.safeParse(token).success) {
      ctx.addIssue({ code: 'custom', message: `"${caller}:…" is not caller:token (caller: a-z, 0-9, "-"; token: 16-256 visible ASCII characters without "," or ":")` });
      return z.NEVER;
    }
    if (callers.has(caller) || [...callers.values()].includes(token)) {
      ctx.addIssue({ code: 'custom', message: `caller "${caller}" or its token appears twice; give each caller one token of its own` });
      return z.NEVER;
    }
    callers.set(caller, token);
  }
  if (callers.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no caller; set caller:token pairs, e.g. worker:<token>,api:<token>' });
    return z.NEVER;
  }
  return callers;
});
const DEV_TOKENS: readonly string[] = [...Object.values(DEV_PEER_TOKENS.inventory), ...Object.values(DEV_PEER_TOKENS.payment)];
export const isDevPeerToken = (token: string) => DEV_TOKENS.includes(token.trim());
/** A caller list that gives any caller a dev token (refused with NODE_ENV=production). */
export const namesDevPeerToken = (spec: string) => spec.split(',').some((pair) => isDevPeerToken(pair.slice(pair.indexOf(':') + 1)));
export const pairs = (tokens: Record<string, string>) => Object.entries(tokens).map(([caller, token]) => `${caller}:${token}`).join(',');

// ------------------------------------------------------------------------------------------------
// Secrets. Mark a variable as a secret in the schema (common/config.ts) with
//   devSecret('<dev default>')           a secret `npm run dev` and the tests may default, or
//   optionalSecret()                     a secret without a default (unset: the feature is off),
// optionally with its own base schema (default: a string of at least 8 characters) and a test
// for values that only a dev setup has (e.g. the dev database password). With NODE_ENV=production
// (the image sets it) loadConfig refuses every secret still equal to a dev default, naming each,
// and never applies a dev default: a secret the environment does not set cannot be read, and the
// first read throws a ConfigError naming it. Read your secrets while the process starts (pass them
// into its dependencies), so a process fails its start for a secret it needs and not for one it
// does not use (the worker needs no webhook secret).
// ------------------------------------------------------------------------------------------------
interface SecretSpec {
  /** The default used outside production; never accepted in production. */
  devValue?: string;
  /** Recognises other values only a dev setup has (e.g. any URL with the dev database password). */
  isDevValue?: (value: string) => boolean;
}
const secretSpecs = new Map<z.ZodType, SecretSpec>();
const minSecret = () => z.string().min(8, 'must be at least 8 characters');

export function devSecret(devValue: string, base: z.ZodString = minSecret(), isDevValue?: SecretSpec['isDevValue']) {
  const schema = base.default(devValue);
  secretSpecs.set(schema, { devValue, isDevValue });
  return schema;
}

/** Marks a schema with its own parsing (e.g. a list of keys) as a secret. */
export function secret<T extends z.ZodType>(schema: T, spec: SecretSpec): T {
  secretSpecs.set(schema, spec);
  return schema;
}

export function optionalSecret(base: z.ZodString = minSecret(), isDevValue?: SecretSpec['isDevValue']) {
  const schema = z.preprocess((v) => (v === '' ? undefined : v), base.optional());
  secretSpecs.set(schema, { isDevValue });
  return schema;
}

/** The password of Postgres in `npm run dev` and the tests. */
export const DEV_DATABASE_PASSWORD = 'postgres';
export const hasDevDatabasePassword = (value: string): boolean => {
  try {
    return decodeURIComponent(new URL(value).password) === DEV_DATABASE_PASSWORD;
  } catch {
    return false;
  }
};
export const databaseUrl = () => z.string().url();

/** The variables marked devSecret/optionalSecret in the schema, with what marks a dev value. */
function secretVariables(shape: Readonly<Record<string, unknown>>): [string, SecretSpec][] {
  return Object.entries(shape).flatMap(([name, schema]) => {
    const spec = secretSpecs.get(schema as z.ZodType);
    return spec ? [[name, spec] as [string, SecretSpec]] : [];
  });
}

/**
 * Production: refuses every secret of the schema (`shape`) set to a dev value (naming each), and
 * turns every secret the environment does not set into a property whose read throws (see
 * "Secrets" above). `fallbacks`: variables that default to another one, missing when both are unset.
 */
export function withoutDevSecrets<C extends object>(config: C, env: NodeJS.ProcessEnv, shape: Readonly<Record<string, unknown>>, fallbacks: Readonly<Record<string, string>> = {}): C {
  const secrets = secretVariables(shape);
  const devValues = new Set(secrets.flatMap(([, spec]) => (spec.devValue ? [spec.devValue] : [])));
  const refused = secrets.flatMap(([name, spec]) => {
    const value = env[name];
    if (value === undefined || value === '') return [];
    if (devValues.has(value)) return [`  ${name}: is the development default`];
    if (spec.isDevValue?.(value)) return [`  ${name}: uses a development credential (e.g. the database password "${DEV_DATABASE_PASSWORD}")`];
    return [];
  });
  if (refused.length > 0) {
    throw new ConfigError(`Refusing development secrets with NODE_ENV=production:\n${refused.join('\n')}\nSet each to a secret of its own (e.g. openssl rand -hex 24; README, "Secrets") and start again.`);
  }
  const unset = (name: string) => env[name] === undefined || env[name] === '';
  const missing = (names: string[]) => () => {
    throw new ConfigError(`${names.join(' or ')} is not set. With NODE_ENV=production no development default is used: set it (README, "Secrets") and start again.`);
  };
  for (const [name, spec] of secrets) {
    if (spec.devValue !== undefined && unset(name)) Object.defineProperty(config, name, { get: missing([name]), enumerable: true });
  }
  for (const [name, fallback] of Object.entries(fallbacks)) {
    if (unset(name) && unset(fallback)) Object.defineProperty(config, name, { get: missing([name, fallback]), enumerable: true });
  }
  return config;
}

