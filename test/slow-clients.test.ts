import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN, startInProcess, type InProcess } from './helpers/in-process.js';
import { createAgent, importTokens } from './helpers/broker-setup.js';

/** An upstream that reads uploads forever and reports when the proxy gives one up. */
async function startSinkApi(): Promise<{ url: string; open: () => number; closed: () => number; server: Server }> {
  let open = 0;
  let closed = 0;
  const server = createServer((req) => {
    open += 1;
    req.resume();
    req.once('close', () => (closed += 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, open: () => open, closed: () => closed, server };
}

interface SlowClient {
  /** What the server answered before it closed the socket. */
  answer: Promise<string>;
  /** ms from the request line to the close. */
  closedAfter: Promise<number>;
  socket: Socket;
}

/** A client that sends the headers (and `prefix` of the body), then a byte every `dripMs` (or nothing), never finishing. */
function slowClient(port: number, head: string, options: { dripMs?: number } = {}): SlowClient {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1', () => socket.write(head));
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.on('error', () => {});
  const drip = options.dripMs === undefined ? undefined : setInterval(() => socket.writable && socket.write('x'), options.dripMs);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(drip);
      resolve(performance.now() - started);
    }),
  );
  return { answer: closed.then(() => text), closedAfter: closed, socket };
}

const until = async (what: string, check: () => boolean, ms = 3000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('slow request bodies time out on every route (LATCHKEY_REQUEST_TIMEOUT=2, LATCHKEY_BODY_IDLE_TIMEOUT=1)', { timeout: 30_000 }, () => {
  let lk: InProcess;
  let sink: Awaited<ReturnType<typeof startSinkApi>>;
  let agentKey: string;
  let port: number;

  before(async () => {
    lk = await startInProcess({ env: { LATCHKEY_REQUEST_TIMEOUT: '2', LATCHKEY_BODY_IDLE_TIMEOUT: '1' } });
    port = Number(new URL(lk.url).port);
    sink = await startSinkApi();
    assert.equal((await lk.admin('POST', '/v1/providers', { name: 'sink', tokenEndpoint: `${sink.url}/token`, apiBaseUrl: sink.url })).status, 201);
    await importTokens(lk, { name: 'sink', provider: 'sink', accessToken: 'sink-token-0123456789' });
    agentKey = (await createAgent(lk, { name: 'uploader', policy: { rules: [{ connections: ['sink'] }] } })).apiKey;
  });
  after(async () => {
    await lk?.close();
    sink?.server.closeAllConnections();
    sink?.server.close();
  });

  const upload = (path: string, auth: string, body = '{"a":'): string =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${auth}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n${body}`;

  test('an admin route: a body that stops arriving is answered 408 after the idle bound', async () => {
    const client = slowClient(port, upload('/v1/providers', ADMIN));
    const [answer, ms] = await Promise.all([client.answer, client.closedAfter]);
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
    assert.equal(body.error, 'invalid_request');
    // The idle bound, not the (2 s) total one, ended it.
    assert.match(body.message, /stalled/);
    assert.ok(ms >= 900 && ms < 3000, `closed after ${ms} ms`);
  });

  test('the proxy: 50 clients dripping a byte at a time are cut off at the total bound, and every upstream request is given up', async () => {
    const before = { open: sink.open(), closed: sink.closed() };
    const clients = Array.from({ length: 50 }, () => slowClient(port, upload('/v1/proxy/sink/upload', agentKey, 'x'.repeat(70_000)), { dripMs: 300 }));
    // The bodies are over the replay limit, so each is streamed upstream as it arrives.
    await until('the uploads to reach the upstream', () => sink.open() - before.open === 50);
    const times = await Promise.all(clients.map((c) => c.closedAfter));
    // 2 s, plus at most the check interval (0.5 s), plus slack for a loaded machine.
    for (const ms of times) assert.ok(ms < 4500, `a client kept its socket for ${ms} ms`);
    const answers = await Promise.all(clients.map((c) => c.answer));
    for (const answer of answers) assert.match(answer, /^(HTTP\/1\.1 408 |$)/, answer);
    await until('the upstream requests to be given up', () => sink.closed() - before.closed === 50);
  });

  test('the proxy: a streamed body that goes silent is cut off at the idle bound and its upstream request given up', async () => {
    const before = { open: sink.open(), closed: sink.closed() };
    const client = slowClient(port, upload('/v1/proxy/sink/upload', agentKey, 'x'.repeat(70_000)));
    const [answer, ms] = await Promise.all([client.answer, client.closedAfter]);
    assert.match(answer, /^HTTP\/1\.1 408 [^]*stalled/, answer);
    assert.ok(ms < 3000, `closed after ${ms} ms`);
    await until('the upstream request to be given up', () => sink.closed() - before.closed === 1 && sink.open() - before.open === 1);
  });

  test('headers that never finish are cut off at the total bound', async () => {
    const client = slowClient(port, `GET /v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, { dripMs: 300 });
    const [answer, ms] = await Promise.all([client.answer, client.closedAfter]);
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    assert.ok(ms < 4500, `closed after ${ms} ms`);
  });

  test('a request that keeps its pace is served', async () => {
    const res = await fetch(`${lk.url}/v1/agents`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
  });
});
