import type { NextFunction, Request, Response } from 'express';
import { ApiKeyError, createApiKey, generateApiKey, hashApiKey, keyIdOf, scopesOf, secretOf } from '../../api/api-keys';
import type { Db } from '../../common/db';
import { authenticatedClient, requireScope, type AuthenticatedClient } from '../../api/auth';
import { HttpProblem } from '../../common/http';

describe('API keys (pure logic)', () => {
  it('are ook_<16 hex id>_<43 base64url secret>, random, and name their id', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(/^ook_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    expect(a.keyId).not.toBe(b.keyId);
    expect(keyIdOf(a.key)).toBe(a.keyId);
  });

  it('read no id from anything that is not a whole, well-formed key', () => {
    const { key, keyId } = generateApiKey();
    for (const bad of ['', keyId, `ook_${keyId}`, `${key}x`, key.slice(0, -1), ` ${key}`, key.toUpperCase(), `ook_${keyId}_${'a'.repeat(42)}!`]) {
      expect([bad, keyIdOf(bad)]).toEqual([bad, undefined]);
    }
  });

  it('are stored as a SHA-256 that does not contain the secret', () => {
    const { key, keyId } = generateApiKey();
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toBe(hashApiKey(generateApiKey().key));
    const secret = secretOf(key)!;
    expect(secret).toBe(key.slice(`ook_${keyId}_`.length));
    expect(secret).toHaveLength(43);
    expect(hashApiKey(key)).not.toContain(secret);
  });

  it('are read by position, so a secret that starts with or holds "_" is found whole', () => {
    const secret = `_${'a'.repeat(20)}_${'b'.repeat(21)}`;
    const key = `ook_0123456789abcdef_${secret}`;
    expect([keyIdOf(key), secretOf(key)]).toEqual(['0123456789abcdef', secret]);
    expect(secretOf('ook_0123456789abcdef_short')).toBeUndefined();
  });

  it('give an operator every scope a shop has, and a shop not the operator\'s', () => {
    expect(scopesOf('shop')).toEqual(['shop']);
    expect(scopesOf('operator')).toEqual(expect.arrayContaining(['shop', 'operator']));
  });
});

describe('createApiKey refusals (before any database write)', () => {
  const noDb = new Proxy({}, { get: () => { throw new Error('the database was used'); } }) as Db;
  it('refuses the client ids that own orders from before API keys: no key may act as them', async () => {
    for (const reserved of ['legacy', 'anonymous']) await expect(createApiKey(noDb, reserved)).rejects.toThrow(ApiKeyError);
    await expect(createApiKey(noDb, 'not valid!')).rejects.toThrow(/not valid/);
  });
});

describe('requireScope (pure logic)', () => {
  const call = (client: AuthenticatedClient | undefined, scope: 'shop' | 'operator') => {
    const res = { locals: client ? { client } : {} } as unknown as Response;
    let passed: unknown = 'not called';
    requireScope(scope)({} as Request, res, ((err?: unknown) => { passed = err; }) as NextFunction);
    return passed;
  };
  const shop = { clientId: 'shop-1', keyId: '0123456789abcdef', scopes: scopesOf('shop') };
  const operator = { clientId: 'ops', keyId: 'fedcba9876543210', scopes: scopesOf('operator') };

  it('lets a key with the scope through and refuses one without it with 403', () => {
    expect(call(shop, 'shop')).toBeUndefined();
    expect(call(operator, 'operator')).toBeUndefined();
    expect(call(operator, 'shop')).toBeUndefined();
    const refused = call(shop, 'operator');
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).problem).toMatchObject({ status: 403 });
  });

  it('fails loudly on a route authenticate() does not guard', () => {
    expect(() => call(undefined, 'shop')).toThrow(/authenticate/);
    expect(() => authenticatedClient({ locals: {} } as unknown as Response)).toThrow(/authenticate/);
  });
});
