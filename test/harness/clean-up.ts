/**
 * A test's afterAll: every step, in order, each whatever the ones before it threw (the system is
 * stopped even when closing a browser or a connection failed), then the first failure thrown, so
 * the hook still fails and says why.
 */
export async function cleanUp(...steps: (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} clean-up steps failed: ${failures.map((f) => (f as Error)?.message ?? String(f)).join('; ')}`);
}
