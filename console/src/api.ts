import { LatchkeyAdmin, LatchkeyApiError } from '../../src/sdk/index.js';
import type { OperatorRole, PageOptions } from '../../src/sdk/index.js';

/**
 * The console's only way to the server: the SDK in session mode. The CSRF
 * token lives in this module's memory (never in storage or a URL); a reload
 * asks GET /v1/session for it again.
 */
let csrf: string | undefined;

export const client = new LatchkeyAdmin({ url: location.origin, session: { csrfToken: () => csrf } });
export function setCsrf(token: string | undefined): void {
  csrf = token;
}

/** A failure as one line for the page: the API's own message, never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof LatchkeyApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The largest page a list route gives (PAGE_LIMIT_MAX): the fewest round trips. */
export const WHOLE: PageOptions = { limit: 1000 };

/**
 * Every item of a paged list. Without a cursor a list route answers only its
 * first 100, so a page built on `list()` would silently leave the rest out.
 */
export async function listAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof LatchkeyApiError && err.status === 401;
}

const RANK: Record<OperatorRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` may do what needs `least` (the UI hides the rest; the API is the guard). */
export function allows(role: OperatorRole, least: OperatorRole): boolean {
  return RANK[role] >= RANK[least];
}
