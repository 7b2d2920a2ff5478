/** How long a hot-path read (agent key, connection, provider) may be reused; see docs/agents.md. */
export const READ_CACHE_MS = 1000;

const MAX_ENTRIES = 10_000;

export interface ReadCache<T> {
  get(key: string): Promise<T>;
  /** Forgets everything: called on every local change, so this process sees it at once. */
  clear(): void;
  delete(key: string): void;
}

/**
 * A read-through cache for the per-request lookups of the agent API. The
 * database layer costs far more per query than the proxying itself, so the
 * same agent key, connection or provider is read at most once per `ttlMs`
 * (concurrent requests share the query in flight). Local changes clear it at
 * once; another replica's changes are seen within `ttlMs`. Misses (undefined)
 * and failures are not kept.
 */
export function readCache<T>(load: (key: string) => Promise<T>, ttlMs = READ_CACHE_MS, now: () => number = () => performance.now()): ReadCache<T> {
  const entries = new Map<string, { value: Promise<T>; until: number }>();
  return {
    get(key) {
      const hit = entries.get(key);
      if (hit !== undefined && hit.until > now()) return hit.value;
      const value = load(key);
      entries.set(key, { value, until: now() + ttlMs });
      const forget = (): void => {
        if (entries.get(key)?.value === value) entries.delete(key);
      };
      value.then((v) => v === undefined && forget(), forget);
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
      return value;
    },
    clear: () => entries.clear(),
    delete: (key) => void entries.delete(key),
  };
}
