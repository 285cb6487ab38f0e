/**
 * Compensation bookkeeping for the order saga. Pure logic, no Temporal imports, so it is unit
 * tested on its own. An undo is registered *before* its step runs: a step that timed out may
 * still have taken effect, and every undo is safe to run when its step never happened.
 */
export interface Compensation {
  name: string;
  run: () => Promise<unknown>;
}

export class Saga {
  private readonly undos: Compensation[] = [];

  register(name: string, run: () => Promise<unknown>): void {
    this.undos.push({ name, run });
  }

  /**
   * Forgets every registered undo, for good: past the saga's point of no return nothing may be
   * undone any more. Returns their names, in the order they would have run.
   */
  forget(): string[] {
    const names = this.pending;
    this.undos.length = 0;
    return names;
  }

  /** Names of the undos that would run now, in the order they would run. */
  get pending(): string[] {
    return this.undos.map((u) => u.name).reverse();
  }

  /**
   * Runs the registered undos last-registered-first, each once, one after another.
   * Returns the names that ran. Stops at the first undo that throws, and rethrows: the
   * remaining undos stay pending so the caller can report exactly what is left to do.
   */
  async compensate(): Promise<string[]> {
    const done: string[] = [];
    while (this.undos.length > 0) {
      const undo = this.undos[this.undos.length - 1]!;
      await undo.run();
      this.undos.pop();
      done.push(undo.name);
    }
    return done;
  }
}
