import { createServer, isIP, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { HostLookup, ResolvedAddress } from '../../src/net/index.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * A made-up DNS for the server under test: each name answers from a list of
 * answers, one per lookup (the last repeats), so a test can rebind a name
 * between two lookups. `onDial` is a tripwire: the server may only ever dial
 * loopback, so a broken guard fails the test instead of sending a packet out.
 */
export class FakeDns {
  readonly lookups: string[] = [];
  readonly dials: string[] = [];
  readonly #answers = new Map<string, string[][]>();

  /** Answers for `name`, in order: `set('a.example', ['127.0.0.1'], ['169.254.169.254'])` rebinds on the second lookup. */
  set(name: string, ...answers: string[][]): void {
    this.#answers.set(name, answers);
  }

  readonly lookup: HostLookup = async (hostname) => {
    this.lookups.push(hostname);
    const answers = this.#answers.get(hostname);
    if (answers === undefined || answers.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    const answer = answers.length > 1 ? (answers.shift() as string[]) : (answers[0] as string[]);
    return answer.map((address): ResolvedAddress => ({ address, family: isIP(address) }));
  };

  /** Records every dial; refuses (before any packet) all but loopback. */
  readonly onDial = (address: string): void => {
    this.dials.push(address);
    if (!LOOPBACK.has(address)) throw new Error(`test tripwire: the server tried to dial ${address}`);
  };

  lookupsOf(name: string): number {
    return this.lookups.filter((h) => h === name).length;
  }
}

/** A TCP listener on 127.0.0.1 that only counts connections: proof that nothing was dialled. */
export async function connectionCounter(): Promise<{ port: number; count(): number; close(): Promise<void> }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A TLS listener on 127.0.0.1 that records the server name (SNI) each client
 * asks for and then ends the handshake: it shows which name a connection to
 * a pinned address carried, without a certificate.
 */
export async function sniRecorder(): Promise<{ port: number; names: string[]; close(): Promise<void> }> {
  const names: string[] = [];
  const server = createTlsServer({
    SNICallback: (name, done) => {
      names.push(name);
      done(new Error('this listener only records the server name'), undefined);
    },
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    names,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
