import { LatchkeyAdmin, LatchkeyApiError } from '../../src/sdk/index.js';
import type { ConnectLinkCreate, ConnectLinkView, OperatorRole } from '../../src/sdk/index.js';

/**
 * The console's only way to the server: the SDK in session mode. The CSRF
 * token lives in this module's memory (never in storage or a URL); a reload
 * asks GET /v1/session for it again.
 */
let csrf: string | undefined;

export const client = new LatchkeyAdmin({ url: location.origin, session: { csrfToken: () => csrf } });
const http = client.http;

export function setCsrf(token: string | undefined): void {
  csrf = token;
}

/** Connect links (the links work); everything else is a method of `client`. */
export const people = {
  connectLinks: {
    create: (body: ConnectLinkCreate): Promise<ConnectLinkView> => http.json('POST', '/v1/connect-links', { body }),
  },
};

/** A failure as one line for the page: the API's own message, never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof LatchkeyApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof LatchkeyApiError && err.status === 401;
}

const RANK: Record<OperatorRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` may do what needs `least` (the UI hides the rest; the API is the guard). */
export function allows(role: OperatorRole, least: OperatorRole): boolean {
  return RANK[role] >= RANK[least];
}
