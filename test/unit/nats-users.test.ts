import { ConfigError } from '../../common/config';
import { CONSUMER_USERS, consumerUser, natsCredentials, natsPermissions, natsScope, TEST_NATS_SCOPE } from '../../common/nats-users';
import { consumerSubscriptions } from '../../workers/subscriptions';

describe('NATS users (common/nats-users.ts)', () => {
  it('has a user for every consumer, named after its durable, and none for an unknown one', () => {
    expect([...CONSUMER_USERS].sort()).toEqual(consumerSubscriptions.map((c) => c.name).sort());
    for (const name of CONSUMER_USERS) expect(consumerUser(name)).toBe(name);
    expect(() => consumerUser('billing')).toThrow(/add it to CONSUMER_USERS/);
  });

  it('connects as the role with its dev password by default, as NATS_USER/NATS_PASSWORD when set', () => {
    expect(natsCredentials({ NATS_USER: undefined, NATS_PASSWORD: undefined }, 'relay', 'development')).toEqual({ user: 'relay', pass: 'dev-nats-relay' });
    expect(natsCredentials({ NATS_USER: 'relay-eu', NATS_PASSWORD: 's3cret-value' }, 'relay', 'production')).toEqual({ user: 'relay-eu', pass: 's3cret-value' });
  });

  it('refuses a missing or dev password in production, saying which variable to set', () => {
    expect(() => natsCredentials({ NATS_USER: undefined, NATS_PASSWORD: undefined }, 'email', 'production')).toThrow(ConfigError);
    expect(() => natsCredentials({ NATS_USER: undefined, NATS_PASSWORD: undefined }, 'email', 'production')).toThrow(/NATS_PASSWORD is not set .*NATS_EMAIL_PASSWORD/);
    expect(() => natsCredentials({ NATS_USER: 'email', NATS_PASSWORD: 'dev-nats-email' }, 'email', 'production')).toThrow(/a dev default/);
  });

  it('scopes each user to the configured stream and prefix; only the relay publishes events and only admin manages streams', () => {
    const scope = natsScope({ EVENTS_STREAM: 'ORDER_EVENTS', EVENTS_SUBJECT_PREFIX: 'orders.events' });
    expect(natsPermissions('relay', scope).publish).toContain('orders.events.*');
    for (const user of ['email', 'analytics', 'dlq', 'inspector'] as const) {
      const publish = natsPermissions(user, scope).publish;
      expect({ user, publishesEvents: publish.some((s) => s === 'orders.events.*' || s === 'orders.events.>') }).toEqual({ user, publishesEvents: false });
    }
    for (const user of ['relay', 'email', 'analytics', 'dlq', 'inspector'] as const) {
      const publish = natsPermissions(user, scope).publish;
      expect({ user, managesStreams: publish.some((s) => /STREAM\.(CREATE|UPDATE|DELETE|PURGE)|\$JS\.API\.>/.test(s)) }).toEqual({ user, managesStreams: false });
    }
    expect(natsPermissions('email', scope).publish).toEqual(expect.arrayContaining(['$JS.API.CONSUMER.MSG.NEXT.ORDER_EVENTS.email', '$JS.ACK.ORDER_EVENTS.email.>', 'dlq.orders.events.email']));
    // The inspector only reads: no consumer of its own, no ack, no delete, nothing published but API reads.
    const inspector = natsPermissions('inspector', scope).publish;
    expect(inspector.filter((s) => /CREATE|DELETE|ACK|MSG\.NEXT|^dlq\.|^orders\./.test(s))).toEqual([]);
    expect(inspector).toEqual(expect.arrayContaining(['$JS.API.STREAM.MSG.GET.ORDER_EVENTS', '$JS.API.STREAM.MSG.GET.ORDER_EVENTS_DLQ', '$JS.API.CONSUMER.INFO.ORDER_EVENTS.*']));
    expect(natsPermissions('email', TEST_NATS_SCOPE).publish).toContain('$JS.API.CONSUMER.MSG.NEXT.*.email');
  });
});
