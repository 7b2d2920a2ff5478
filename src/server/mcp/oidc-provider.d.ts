// oidc-provider ships no TypeScript types: the small surface Latchkey's /mcp authorization server uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    jti?: string;
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: unknown;
    exp?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface KoaContextWithOIDC {
    oidc: {
      params?: Record<string, unknown>;
      client?: Client;
      result?: Record<string, unknown>;
      route?: string;
    };
  }

  export interface Client {
    clientId: string;
    clientName?: string;
    clientUri?: string;
    logoUri?: string;
    redirectUris: string[];
    tokenEndpointAuthMethod: string;
    grantTypeAllowed(type: string): boolean;
    metadata(): Record<string, unknown>;
  }

  export interface Interaction {
    uid: string;
    exp: number;
    iat: number;
    returnTo: string;
    params: Record<string, unknown>;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    result?: Record<string, unknown>;
    session?: { accountId?: string };
    save(ttl: number): Promise<string>;
  }

  export interface Grant {
    accountId: string;
    clientId: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
  }

  export interface AccessToken {
    jti: string;
    accountId: string;
    clientId: string;
    grantId: string;
    aud?: string | string[];
    exp: number;
    scope?: string;
    isExpired: boolean;
  }

  export class Check {
    constructor(reason: string, description: string, check: (ctx: KoaContextWithOIDC) => symbol | boolean | Promise<symbol | boolean>);
    static REQUEST_PROMPT: symbol;
    static NO_NEED_TO_PROMPT: symbol;
  }

  export interface Prompt {
    name: string;
    checks: Check[] & { add(check: Check, index?: number): void };
  }

  export const interactionPolicy: {
    base(): Prompt[] & { get(name: string): Prompt | undefined };
    Check: typeof Check;
  };

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidClientMetadata: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
    InvalidGrant: new (description?: string) => Error;
    AccessDenied: new (description?: string) => Error;
  };

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Koa middleware, run before oidc-provider's router. */
    use(middleware: (ctx: object, next: () => Promise<void>) => Promise<void>): this;
    /** The Koa context of the request being handled (AsyncLocalStorage), if any. */
    static readonly ctx: object | undefined;
    urlFor(name: string, opts?: Record<string, string>): string;
    on(event: string, listener: (...args: unknown[]) => void): this;
    Interaction: { find(uid: string): Promise<Interaction | undefined> };
    Client: { find(id: string): Promise<Client | undefined> };
    AccessToken: { find(token: string): Promise<AccessToken | undefined> };
    Grant: (new (init: { accountId: string; clientId: string }) => Grant) & { find(id: string): Promise<Grant | undefined> };
  }
}
