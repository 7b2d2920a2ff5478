import type { CustomFetch } from 'openid-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { ConnectionRegistry } from '../connections/index.js';
import type { Keyring } from '../crypto/index.js';
import type { EmitEvent } from '../events/index.js';
import type { Logger } from '../log.js';
import type { ProviderRegistry } from '../providers/index.js';
import type { Store } from '../store/index.js';

/** The secrets of one grant, as the connection row keeps them (sealed together). */
export interface GrantSecrets {
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
}

/** What the flows need, passed down by the composition root. */
export interface OAuthDeps {
  config: Pick<Config, 'publicUrl' | 'allowedReturnOrigins' | 'allowHttpLoopback' | 'refreshSkewSeconds'>;
  clock: Clock;
  logger: Logger;
  store: Store;
  keyring: Keyring;
  providers: ProviderRegistry;
  connections: ConnectionRegistry;
  /**
   * Seals a grant's tokens for a connection row: the token vault (tokens/)
   * owns that format and sits above oauth/, so the composition root hands it in.
   */
  sealTokens(connectionId: string, tokens: GrantSecrets): Promise<string>;
  /** Opens a connection's stored grant (a reconnect compares the account it belonged to). */
  openTokens(connectionId: string, sealed: string | null): Promise<GrantSecrets>;
  /** The webhook outbox: a flow that makes a connection active emits `connection.created`. */
  emit: EmitEvent;
  /** Outbound fetch for every provider endpoint: the address-guarded one (net/). */
  fetch: CustomFetch;
}

/** Input shared by every way of starting a connection. */
export interface ConnectInput {
  name?: string;
  subject?: string;
  environment?: string;
  scopes?: string[];
}
