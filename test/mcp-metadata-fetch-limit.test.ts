import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { MCP_METADATA_FETCHES_PER_HOUR } from '../src/server/mcp/cimd.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

// A client_id that is a URL makes Latchkey fetch it (Client ID Metadata Documents). Anyone who can reach
// /mcp-oauth could name a new URL on every request and use Latchkey as a fetch amplifier, or name the same
// bad one over and over.
let lk: InProcess;
let docs: Server;
let docsUrl = '';
const fetched: string[] = [];

before(async () => {
  lk = await startInProcess();
  docs = createServer((req, res) => {
    fetched.push(req.url ?? '');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
});
after(async () => {
  await lk?.close();
  docs?.close();
});

async function authorize(clientId: string): Promise<number> {
  const url = new URL(`${lk.url}/mcp-oauth/auth`);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:9/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: `${lk.url}/mcp`,
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

test('a refused metadata document is not fetched again however often it is named', async () => {
  for (let i = 0; i < 5; i++) assert.equal(await authorize(`${docsUrl}/clients/missing.json`), 400);
  assert.deepEqual(fetched, ['/clients/missing.json']);
});

test(`one address makes Latchkey fetch at most ${MCP_METADATA_FETCHES_PER_HOUR} metadata documents an hour`, async () => {
  fetched.length = 0;
  for (let i = 0; i < MCP_METADATA_FETCHES_PER_HOUR + 10; i++) assert.equal(await authorize(`${docsUrl}/clients/${i}.json`), 400);
  // One fetch already went to the first test's document.
  assert.equal(fetched.length, MCP_METADATA_FETCHES_PER_HOUR - 1);
  assert.ok(lk.logs.text().includes('asked for too many'), 'the refusal is logged');
});
