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

  it('bounds every wait on the database and on Temporal: connect 5 s, statement 15 s, Temporal calls 10 s by default', () => {
    const c = loadConfig({});
    expect(c.DATABASE_CONNECT_TIMEOUT).toBe(5_000);
    expect(c.DATABASE_STATEMENT_TIMEOUT).toBe(15_000);
    expect(c.TEMPORAL_CALL_TIMEOUT).toBe(10_000);
    const set = loadConfig({ DATABASE_CONNECT_TIMEOUT: '2s', DATABASE_STATEMENT_TIMEOUT: '1m', TEMPORAL_CALL_TIMEOUT: '500ms' });
    expect([set.DATABASE_CONNECT_TIMEOUT, set.DATABASE_STATEMENT_TIMEOUT, set.TEMPORAL_CALL_TIMEOUT]).toEqual([2_000, 60_000, 500]);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '15' })).toThrow(/DATABASE_STATEMENT_TIMEOUT/);
  });
});
