import { LatchkeyAdmin, LatchkeyApiError } from '../../src/sdk/index.js';
import type {
  ConnectLinkCreate,
  ConnectLinkView,
  OperatorRole,
  OperatorView,
  SessionView,
} from '../../src/sdk/index.js';

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

const enc = encodeURIComponent;

/** Sessions, operators and connect links (routes of the ops and links work). */
export const people = {
  signIn: (body: { name: string; password: string } | { signInToken: string }): Promise<SessionView> =>
    http.json('POST', '/v1/sessions', { body }),
  session: (): Promise<SessionView> => http.json('GET', '/v1/session'),
  signOut: (): Promise<{ signedOut: boolean }> => http.json('DELETE', '/v1/session'),
  operators: {
    list: (): Promise<OperatorView[]> => http.json('GET', '/v1/operators'),
    create: (body: { name: string; role: OperatorRole; password?: string }): Promise<OperatorView> =>
      http.json('POST', '/v1/operators', { body }),
    update: (name: string, body: { role?: OperatorRole; password?: string }): Promise<OperatorView> =>
      http.json('PATCH', `/v1/operators/${enc(name)}`, { body }),
    remove: (name: string): Promise<unknown> => http.json('DELETE', `/v1/operators/${enc(name)}`),
    signInLink: (name: string): Promise<{ url: string; expiresAt: string }> =>
      http.json('POST', `/v1/operators/${enc(name)}/sign-in-links`),
  },
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
