import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import { TargetNotAllowed } from '../errors.js';
import { addressKind, inNetwork, isPermitted, type AddressKind, type Network } from './ranges.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses; injectable so tests can point a made-up name anywhere. */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface OutboundOptions {
  /** Loopback addresses are reachable only under LATCHKEY_ALLOW_HTTP_LOOPBACK. */
  allowLoopback: boolean;
  /** LATCHKEY_ALLOWED_PRIVATE_NETWORKS: private addresses in these networks may be reached (on-premise APIs). */
  privateNetworks?: readonly Network[];
  lookup?: HostLookup;
  /** Sees every address right before it is dialled; throwing stops the dial. Tests use it as a tripwire. */
  onDial?: (address: string, port: string) => void;
}

/** What openid-client's customFetch and the webhook sender pass to fetch. */
export interface OutboundInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | ReadableStream | null;
  redirect?: 'manual' | 'error' | 'follow';
  signal?: AbortSignal | null;
}

export type OutboundFetch = (url: string, init: OutboundInit) => Promise<Response>;

const KIND_WORDS: Record<AddressKind, string> = {
  public: 'public',
  loopback: 'loopback',
  private: 'private-network',
  'link-local': 'link-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  reserved: 'special-use',
};

/** A host resolved only to addresses Latchkey does not connect to; says which kind, not which address. */
export class AddressNotAllowed extends TargetNotAllowed {
  constructor(
    readonly host: string,
    readonly kind: AddressKind,
    allowLoopback: boolean,
  ) {
    const hint =
      kind === 'loopback' && !allowLoopback
        ? ' (loopback is allowed only with LATCHKEY_ALLOW_HTTP_LOOPBACK=1)'
        : kind === 'private'
          ? ' (unless its network is listed in LATCHKEY_ALLOWED_PRIVATE_NETWORKS)'
          : '';
    super(`${host} resolves to a ${KIND_WORDS[kind]} address, which Latchkey does not connect to${hint}`);
    this.name = 'AddressNotAllowed';
  }
}

/** The guard's refusal, if that is what an error (or one of its causes) is. */
export function addressRefusal(err: unknown): AddressNotAllowed | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth += 1) {
    if (e instanceof AddressNotAllowed) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Every outbound connection (proxy, token endpoint, discovery, webhooks)
 * dials through here: the host is resolved once, each address is checked
 * against the special-range deny-list, and the connection goes to the
 * checked address itself, so a second DNS answer cannot redirect it. TLS
 * keeps the host name for SNI and certificate checks, HTTP for `Host`.
 */
export class Outbound {
  readonly #options: OutboundOptions;
  readonly #lookup: HostLookup;
  readonly #dial: buildConnector.connector;
  readonly #agent: Agent;
  /** The undici connector to give a Pool or Agent as its `connect` option. */
  readonly connect: buildConnector.connector;

  constructor(options: OutboundOptions) {
    this.#options = options;
    this.#lookup = options.lookup ?? systemLookup;
    this.#dial = buildConnector({});
    const fail = (callback: buildConnector.Callback, err: unknown): void => callback(err instanceof Error ? err : new Error(String(err)), null);
    this.connect = (opts, callback) => {
      this.pin(opts.hostname).then(
        (address) => {
          // Nothing thrown here may become an unhandled rejection: every failure goes to the callback, once.
          try {
            this.#options.onDial?.(address, opts.port);
          } catch (err) {
            fail(callback, err);
            return;
          }
          try {
            this.#dial({ ...opts, hostname: address }, callback);
          } catch (err) {
            fail(callback, err);
          }
        },
        (err: unknown) => fail(callback, err),
      );
    };
    this.#agent = new Agent({ connect: this.connect });
  }

  /** The address to dial for a host: a permitted one of its addresses, or AddressNotAllowed. */
  async pin(hostname: string): Promise<string> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    const addresses = family !== 0 ? [{ address: host, family }] : await this.#lookup(host);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} has no addresses`), { code: 'ENOTFOUND' });
    const permitted = addresses.find((a) => this.#permits(a.address));
    if (permitted === undefined) {
      throw new AddressNotAllowed(host, addressKind(addresses[0]?.address ?? ''), this.#options.allowLoopback);
    }
    return permitted.address;
  }

  #permits(address: string): boolean {
    const kind = addressKind(address);
    if (isPermitted(kind, this.#options.allowLoopback)) return true;
    // Only private addresses can be let in: a listed network never opens loopback, link-local or the rest.
    return kind === 'private' && (this.#options.privateNetworks ?? []).some((n) => inNetwork(address, n));
  }

  /** fetch over the guarded dispatcher; a refusal surfaces as AddressNotAllowed, not "fetch failed". */
  readonly fetch: OutboundFetch = async (url, init) => {
    try {
      const response = await undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher: this.#agent });
      return response as unknown as Response;
    } catch (err) {
      throw addressRefusal(err) ?? err;
    }
  };

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
