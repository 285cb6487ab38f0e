import { call } from './http-helpers';

/** The liveness and readiness contract every peer service answers; `baseUrl` is read once the service runs. */
export function describeHealthChecks(baseUrl: () => string): void {
  describe('health', () => {
    it('answers liveness and readiness', async () => {
      expect(await call(baseUrl(), 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await call(baseUrl(), 'GET', '/readyz')).toMatchObject({ status: 200 });
    });
  });
}
