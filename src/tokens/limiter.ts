/** At most `limit` tasks at once per key (the background refresher's per-provider limit). */
export class KeyedLimiter {
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key) ?? 0;
    if (running >= this.limit) {
      // The finishing task hands its slot straight to us, so the count never overshoots.
      await new Promise<void>((resolve) => this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), resolve]));
    } else {
      this.#running.set(key, running + 1);
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.get(key)?.shift();
      if (next !== undefined) next();
      else this.#running.set(key, (this.#running.get(key) ?? 1) - 1);
    }
  }
}
