import { ConfigError, DEV_PEER_TOKENS, loadConfig } from '../../common/config';

describe('configuration from the environment (pure logic)', () => {
  it('has defaults that match npm run dev', () => {
    const c = loadConfig({});
    expect(c.API_PORT).toBe(3000);
    expect(c.INVENTORY_URL).toBe('http://127.0.0.1:3001');
    expect(c.INVENTORY_DATABASE_URL).toBe(c.DATABASE_URL);
    expect(c.TEMPORAL_TASK_QUEUE).toBe('orders');
  });

  it('rejects bad values and names every offending variable', () => {
    expect(() => loadConfig({ API_PORT: 'eighty', SMTP_URL: 'http://mail' })).toThrow(ConfigError);
    try {
      loadConfig({ API_PORT: 'eighty', SMTP_URL: 'http://mail' });
    } catch (err) {
      expect((err as Error).message).toContain('API_PORT');
      expect((err as Error).message).toContain('SMTP_URL');
    }
  });

  it('has one place for the payment webhook settings: URL unset or empty means none, the secret has its dev default', () => {
    expect(loadConfig({}).PAYMENT_WEBHOOK_URL).toBeUndefined();
    expect(loadConfig({ PAYMENT_WEBHOOK_URL: '' }).PAYMENT_WEBHOOK_URL).toBeUndefined();
    const url = 'http://127.0.0.1:3000/webhooks/payments';
    expect(loadConfig({ PAYMENT_WEBHOOK_URL: url }).PAYMENT_WEBHOOK_URL).toBe(url);
    expect(() => loadConfig({ PAYMENT_WEBHOOK_URL: 'not a url' })).toThrow(/PAYMENT_WEBHOOK_URL/);
    expect(loadConfig({}).PAYMENT_WEBHOOK_SECRET).toBe('dev-webhook-secret');
    expect(() => loadConfig({ PAYMENT_WEBHOOK_SECRET: 'short' })).toThrow(/PAYMENT_WEBHOOK_SECRET/);
  });

  it('reads the peers\' callers as caller:token pairs; dev defaults start with dev-; no test mode and loopback by default', () => {
    const c = loadConfig({});
    expect(Object.fromEntries(c.INVENTORY_CALLER_TOKENS)).toEqual(DEV_PEER_TOKENS.inventory);
    expect(Object.fromEntries(c.PAYMENT_CALLER_TOKENS)).toEqual(DEV_PEER_TOKENS.payment);
    expect([c.INVENTORY_TOKEN, c.PAYMENT_TOKEN]).toEqual([DEV_PEER_TOKENS.inventory.tools, DEV_PEER_TOKENS.payment.tools]);
    for (const token of [...Object.values(DEV_PEER_TOKENS.inventory), ...Object.values(DEV_PEER_TOKENS.payment)]) expect(token).toMatch(/^dev-/);
    expect(c.SERVICE_TEST_MODE).toBe(false);
    expect(c.HTTP_HOST).toBe('127.0.0.1');

    const set = loadConfig({ INVENTORY_CALLER_TOKENS: ' api:aaaaaaaaaaaaaaaa , worker:bbbbbbbbbbbbbbbbbbbb', SERVICE_TEST_MODE: 'true' });
    expect([...set.INVENTORY_CALLER_TOKENS]).toEqual([['api', 'aaaaaaaaaaaaaaaa'], ['worker', 'bbbbbbbbbbbbbbbbbbbb']]);
    expect(set.SERVICE_TEST_MODE).toBe(true);
    for (const bad of ['', 'api', 'api:short', 'API:aaaaaaaaaaaaaaaa', 'api:aaaaaaaaaaaaaaaa,api:bbbbbbbbbbbbbbbb', 'api:aaaaaaaaaaaaaaaa,worker:aaaaaaaaaaaaaaaa', 'api:aaaaaaaaaaaaaaaa:x']) {
      expect(() => loadConfig({ PAYMENT_CALLER_TOKENS: bad })).toThrow(/PAYMENT_CALLER_TOKENS/);
    }
    expect(() => loadConfig({ INVENTORY_TOKEN: 'short' })).toThrow(/INVENTORY_TOKEN/);
  });

  it('limits each API client to 600 POSTs a minute unless set; a window under a second is refused', () => {
    expect([loadConfig({}).API_RATE_LIMIT_POSTS, loadConfig({}).API_RATE_LIMIT_WINDOW]).toEqual([600, 60_000]);
    const set = loadConfig({ API_RATE_LIMIT_POSTS: '5', API_RATE_LIMIT_WINDOW: '1h' });
    expect([set.API_RATE_LIMIT_POSTS, set.API_RATE_LIMIT_WINDOW]).toEqual([5, 3_600_000]);
    expect(() => loadConfig({ API_RATE_LIMIT_WINDOW: '0s' })).toThrow(/API_RATE_LIMIT_WINDOW/);
    expect(() => loadConfig({ API_RATE_LIMIT_POSTS: '0' })).toThrow(/API_RATE_LIMIT_POSTS/);
  });

  it('keeps the consumers\' inbox longer than an event can come back: by default a day past the stream and the dead letters together', () => {
    expect(loadConfig({}).INBOX_RETENTION).toBe(61 * 86_400_000);
    expect(loadConfig({ EVENTS_MAX_AGE: '10d', DLQ_MAX_AGE: '20d' }).INBOX_RETENTION).toBe(31 * 86_400_000);
    expect(loadConfig({ INBOX_RETENTION: '90d' }).INBOX_RETENTION).toBe(90 * 86_400_000);
    expect(loadConfig({ INBOX_RETENTION: '60d' }).INBOX_RETENTION).toBe(60 * 86_400_000);
    expect(() => loadConfig({ INBOX_RETENTION: '59d' })).toThrow(/INBOX_RETENTION: .* shorter than EVENTS_MAX_AGE \+ DLQ_MAX_AGE/);
    expect(() => loadConfig({ INBOX_RETENTION: '10d', EVENTS_MAX_AGE: '1d', DLQ_MAX_AGE: '1d', OUTBOX_RETENTION: '20d' })).toThrow(/INBOX_RETENTION: .* shorter than OUTBOX_RETENTION/);
  });

  it('bounds every wait on the database and on Temporal: connect 5 s, statement 15 s, Temporal calls 10 s by default', () => {
    const c = loadConfig({});
    expect(c.DATABASE_CONNECT_TIMEOUT).toBe(5_000);
    expect(c.DATABASE_STATEMENT_TIMEOUT).toBe(15_000);
    expect(c.TEMPORAL_CALL_TIMEOUT).toBe(10_000);
    const set = loadConfig({ DATABASE_CONNECT_TIMEOUT: '2s', DATABASE_STATEMENT_TIMEOUT: '1m', TEMPORAL_CALL_TIMEOUT: '500ms' });
    expect([set.DATABASE_CONNECT_TIMEOUT, set.DATABASE_STATEMENT_TIMEOUT, set.TEMPORAL_CALL_TIMEOUT]).toEqual([2_000, 60_000, 500]);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '15' })).toThrow(/DATABASE_STATEMENT_TIMEOUT/);
  });

  describe('secrets with NODE_ENV=production', () => {
    const strong = { DATABASE_URL: 'postgresql://orders:s3cret-Orders-pw@db:5432/orders', PAYMENT_WEBHOOK_SECRET: 'a-strong-webhook-secret' };
    const messageOf = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('loadConfig accepted the environment');
    };

    it('uses the dev defaults outside production', () => {
      for (const NODE_ENV of [undefined, 'development', 'test']) {
        const c = loadConfig({ NODE_ENV });
        expect(c.PAYMENT_WEBHOOK_SECRET).toBe('dev-webhook-secret');
        expect(c.DATABASE_URL).toBe('postgresql://postgres:postgres@127.0.0.1:54329/orders');
      }
    });

    it('accepts secrets of its own and reads them as set', () => {
      const c = loadConfig({ NODE_ENV: 'production', ...strong, PAYMENT_WEBHOOK_SECRET_PREVIOUS: 'the-previous-secret' });
      expect(c.DATABASE_URL).toBe(strong.DATABASE_URL);
      expect(c.PAYMENT_DATABASE_URL).toBe(strong.DATABASE_URL);
      expect(c.PAYMENT_WEBHOOK_SECRET).toBe(strong.PAYMENT_WEBHOOK_SECRET);
      expect(c.PAYMENT_WEBHOOK_SECRET_PREVIOUS).toBe('the-previous-secret');
    });

    it('refuses every secret still equal to a dev default, naming each in one message', () => {
      const message = messageOf({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:54329/orders',
        PAYMENT_WEBHOOK_SECRET: 'dev-webhook-secret',
        PAYMENT_WEBHOOK_SECRET_PREVIOUS: 'dev-webhook-secret',
      });
      expect(message).toMatch(/NODE_ENV=production/);
      expect(message).toMatch(/^ {2}DATABASE_URL: /m);
      expect(message).toMatch(/^ {2}PAYMENT_WEBHOOK_SECRET: is the development default$/m);
      expect(message).toMatch(/^ {2}PAYMENT_WEBHOOK_SECRET_PREVIOUS: is the development default$/m);
      expect(message).not.toContain('dev-webhook-secret'); // the message names variables, never values
    });

    it('refuses a database URL with the dev password, wherever it points, also for the peers', () => {
      const message = messageOf({ NODE_ENV: 'production', ...strong, DATABASE_URL: 'postgresql://orders:postgres@db.internal:5432/orders', INVENTORY_DATABASE_URL: 'postgresql://inventory:postgres@db:5432/orders' });
      expect(message).toMatch(/^ {2}DATABASE_URL: uses a development credential/m);
      expect(message).toMatch(/^ {2}INVENTORY_DATABASE_URL: uses a development credential/m);
      expect(message).not.toMatch(/PAYMENT_WEBHOOK_SECRET/);
      expect(() => loadConfig({ NODE_ENV: 'production', ...strong, PAYMENT_DATABASE_URL: 'postgresql://payment:pw-of-its-own@db/orders' })).not.toThrow();
    });

    it('never applies a dev default: an unset secret fails the first read, naming it, and only a process that reads it', () => {
      const c = loadConfig({ NODE_ENV: 'production', DATABASE_URL: strong.DATABASE_URL });
      // A process that does not use the webhook secret (the worker) starts without it ...
      expect(c.DATABASE_URL).toBe(strong.DATABASE_URL);
      expect(c.API_PORT).toBe(3000);
      // ... one that reads it fails at that read with a ConfigError naming the variable.
      expect(() => c.PAYMENT_WEBHOOK_SECRET).toThrow(ConfigError);
      expect(() => c.PAYMENT_WEBHOOK_SECRET).toThrow(/^PAYMENT_WEBHOOK_SECRET is not set\. With NODE_ENV=production no development default is used/);
      expect(c.PAYMENT_WEBHOOK_SECRET_PREVIOUS).toBeUndefined(); // optional: unset means none

      const noDatabase = loadConfig({ NODE_ENV: 'production', PAYMENT_WEBHOOK_SECRET: strong.PAYMENT_WEBHOOK_SECRET });
      expect(() => noDatabase.DATABASE_URL).toThrow(/^DATABASE_URL is not set/);
      expect(() => noDatabase.INVENTORY_DATABASE_URL).toThrow(/^INVENTORY_DATABASE_URL or DATABASE_URL is not set/);
      const ownInventoryUrl = loadConfig({ NODE_ENV: 'production', INVENTORY_DATABASE_URL: 'postgresql://inventory:pw-of-its-own@db/orders' });
      expect(ownInventoryUrl.INVENTORY_DATABASE_URL).toBe('postgresql://inventory:pw-of-its-own@db/orders');
    });

    it('treats the peers\' caller tokens as secrets: any dev token is refused, an unset one fails its first read', () => {
      const message = messageOf({
        NODE_ENV: 'production', ...strong,
        INVENTORY_TOKEN: DEV_PEER_TOKENS.inventory.api, PAYMENT_TOKEN: DEV_PEER_TOKENS.payment.tools,
        INVENTORY_CALLER_TOKENS: `api:an-api-token-of-its-own,worker:${DEV_PEER_TOKENS.inventory.worker}`,
      });
      for (const name of ['INVENTORY_TOKEN', 'PAYMENT_TOKEN', 'INVENTORY_CALLER_TOKENS']) expect(message).toMatch(new RegExp(`^ {2}${name}: `, 'm'));
      expect(message).not.toContain('dev-inventory-token');
      const c = loadConfig({ NODE_ENV: 'production', ...strong, PAYMENT_CALLER_TOKENS: 'worker:a-worker-token-of-its-own' });
      expect(Object.fromEntries(c.PAYMENT_CALLER_TOKENS)).toEqual({ worker: 'a-worker-token-of-its-own' });
      expect(() => c.INVENTORY_CALLER_TOKENS).toThrow(/^INVENTORY_CALLER_TOKENS is not set/);
      expect(() => c.INVENTORY_TOKEN).toThrow(/^INVENTORY_TOKEN is not set/);
    });

    it('refuses an empty secret as too short; an empty optional secret means none', () => {
      expect(messageOf({ NODE_ENV: 'production', ...strong, PAYMENT_WEBHOOK_SECRET: '' })).toMatch(/PAYMENT_WEBHOOK_SECRET: must be at least 8 characters/);
      expect(loadConfig({ NODE_ENV: 'production', ...strong, PAYMENT_WEBHOOK_SECRET_PREVIOUS: '' }).PAYMENT_WEBHOOK_SECRET_PREVIOUS).toBeUndefined();
    });
  });
});
