import type { StartedService } from './spawn';

/**
 * Starts services concurrently and records each one in `started` as soon as it is up, so the
 * caller can stop them all even when another failed to start. Rejects with the first failure
 * once every start has settled (none is left starting in the background).
 */
export async function startAll<T extends StartedService>(started: StartedService[], starts: (null | (() => Promise<T>))[]): Promise<(T | null)[]> {
  const results = await Promise.allSettled(starts.map(async (start) => {
    if (!start) return null;
    const service = await start();
    started.push(service);
    return service;
  }));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T | null>).value);
}
