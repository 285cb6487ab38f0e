import { isTransientStatus, problemType } from '../../common/clients/http-json';
import { redeliveryDelayMs } from '../../workers/event-consumer';

describe('peer call failure classification (pure logic)', () => {
  it('retries timeouts, throttling and server errors only', () => {
    for (const s of [408, 429, 500, 502, 503, 504]) expect(isTransientStatus(s)).toBe(true);
    for (const s of [200, 201, 400, 402, 404, 409, 422]) expect(isTransientStatus(s)).toBe(false);
  });

  it('reads the problem type slug', () => {
    expect(problemType({ type: 'https://problems.example/insufficient-stock' })).toBe('insufficient-stock');
    expect(problemType({})).toBeUndefined();
  });

  it('backs off redeliveries exponentially up to a minute', () => {
    expect([1, 2, 3, 4].map((n) => redeliveryDelayMs(n))).toEqual([1000, 2000, 4000, 8000]);
    expect(redeliveryDelayMs(50)).toBe(60_000);
  });
});
