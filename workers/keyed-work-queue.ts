/**
 * Runs tasks with at most `limit` at once, and tasks with the same key one after another in the
 * order they were submitted. `submit` resolves once the task has a slot (backpressure), not when
 * it finishes.
 */
export class KeyedWorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly limit: number) {}

  async submit(key: string, task: () => Promise<void>): Promise<void> {
    // A finished task hands its slot straight to the oldest waiter (the count does not drop), so
    // a submit arriving in between cannot take it first.
    if (this.running >= this.limit || this.waiting.length > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next: Promise<void> = previous.then(task).catch(() => undefined).finally(() => {
      const waiter = this.waiting.shift();
      if (waiter) waiter();
      else this.running -= 1;
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    this.tails.set(key, next);
  }

  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
