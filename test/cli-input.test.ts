import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from './helpers/latchkey-process.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

interface Recorder {
  url: string;
  seen: Seen[];
  close: () => Promise<void>;
}

type Answer = (req: IncomingMessage, body: string) => { status: number; body: unknown };

/** A listener on 127.0.0.1 that records every request it gets (and its Authorization header) and answers as told. */
async function startRecorder(answer: Answer = () => ({ status: 404, body: { error: 'not_found', message: 'nothing here' } })): Promise<Recorder> {
  const seen: Seen[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const { status, body: out } = answer(req, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ADMIN_TOKEN = 'lka_cli_input_admin_token_never_to_mcp';
const AGENT_KEY = 'lkak_cli_input_agent_key';

describe('CLI input is checked before anything is sent', () => {
  let latchkey: Recorder;
  let mcp: Recorder;
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-input-'));

  before(async () => {
    latchkey = await startRecorder((req) =>
      req.url?.startsWith('/v1/mcp-tools/') === true
        ? { status: 200, body: { content: [{ type: 'text', text: 'the tool failed' }], isError: true } }
        : { status: 404, body: { error: 'not_found', message: 'nothing here' } },
    );
    mcp = await startRecorder();
  });
  after(async () => {
    await latchkey.close();
    await mcp.close();
  });

  const env = (): Record<string, string> => ({ LATCHKEY_URL: latchkey.url, LATCHKEY_ADMIN_TOKEN: ADMIN_TOKEN, LATCHKEY_AGENT_KEY: AGENT_KEY });

  test('mcp-servers add with two URLs exits 2 and sends nothing; the admin token never reaches the MCP server', async () => {
    const mcpUrl = `${mcp.url}/mcp`;
    const cases: string[][] = [
      ['mcp-servers', 'add', 'linear', '--url', mcpUrl, '--url', latchkey.url],
      ['mcp-servers', 'add', 'linear', '--url', latchkey.url, '--url', mcpUrl],
      ['--url', latchkey.url, 'mcp-servers', 'add', 'linear', '--url', mcpUrl],
      ['mcp-servers', 'add', 'linear', mcpUrl, '--url', latchkey.url],
      ['mcp-servers', 'add', 'linear', '--url', latchkey.url, mcpUrl],
      ['mcp-servers', 'add', 'linear', '--url', mcpUrl, '--url', latchkey.url, '--client-id', 'abc', '--client-secret-stdin'],
    ];
    for (const args of cases) {
      const result = await runCli(args, env(), 'client-secret-from-stdin\n');
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /one URL, the MCP server's.*LATCHKEY_URL/s, args.join(' '));
    }
    const json = await runCli(['--json', 'mcp-servers', 'add', 'linear', '--url', mcpUrl, '--url', latchkey.url], env());
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stderr) as { error: string }).error, 'usage');
    assert.equal(mcp.seen.length, 0, 'nothing reached the MCP server');
    assert.equal(latchkey.seen.length, 0, 'nothing was sent on an ambiguous command line');

    // The spec's form: --url is the MCP server's, Latchkey's URL comes from LATCHKEY_URL.
    const one = await runCli(['mcp-servers', 'add', 'linear', '--url', mcpUrl, '--client-id', 'abc', '--client-secret-stdin'], env(), 'client-secret-from-stdin\n');
    assert.equal(one.code, 1, one.stderr);
    assert.match(one.stderr, /nothing here/);
    assert.equal(mcp.seen.length, 0, 'nothing reached the MCP server');
    assert.equal(latchkey.seen.length, 1);
    const [sent] = latchkey.seen;
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.url, '/v1/mcp-servers');
    assert.equal(sent?.authorization, `Bearer ${ADMIN_TOKEN}`);
    assert.deepEqual(JSON.parse(sent?.body ?? ''), { name: 'linear', url: mcpUrl, clientId: 'abc', clientSecret: 'client-secret-from-stdin' });
    latchkey.seen.length = 0;

    // The positional form means the same.
    const positional = await runCli(['mcp-servers', 'add', 'linear', mcpUrl], env());
    assert.equal(positional.code, 1, positional.stderr);
    assert.equal(mcp.seen.length, 0);
    assert.deepEqual(JSON.parse(latchkey.seen[0]?.body ?? ''), { name: 'linear', url: mcpUrl });
    latchkey.seen.length = 0;

    // The global --url still names Latchkey for the commands that take no other URL.
    const listed = await runCli(['mcp-servers', 'list', '--url', latchkey.url], { ...env(), LATCHKEY_URL: mcp.url });
    assert.equal(listed.code, 1, listed.stderr);
    assert.equal(mcp.seen.length, 0);
    assert.equal(latchkey.seen[0]?.url.startsWith('/v1/mcp-servers'), true);
    latchkey.seen.length = 0;
  });

  test('malformed JSON or durations in flags exit 2 with a readable line, and nothing is sent', async () => {
    const policy = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ['invoke', 'github/user', '--data', '{bad'], says: /--data is not JSON/ },
      { args: ['invoke', 'github', 'POST', '/repos', '--data', '{bad'], says: /--data is not JSON/ },
      { args: ['invoke', 'github/user', '--param', 'novalue'], says: /--param novalue: give k=v/ },
      { args: ['mcp-tools', 'call', 'tracker__echo', '--arguments', '{bad'], says: /--arguments must be a JSON object/ },
      { args: ['mcp-tools', 'call', 'tracker__echo', '--arguments', '[1]'], says: /--arguments must be a JSON object/ },
      { args: ['lease', 'github', '--ttl', 'soon'], says: /--ttl.*"soon" is not a duration/ },
      { args: ['lease', 'github', '--ttl', '0'], says: /--ttl.*"0" is not a duration/ },
      { args: ['agents', 'create', 'bot', '--lease-ttl', '15 minutes'], says: /--lease-ttl.*"15 minutes" is not a duration/ },
      { args: ['agents', 'update', 'bot', '--allow', 'github', '--lease-ttl', 'x'], says: /--lease-ttl.*"x" is not a duration/ },
      { args: ['agents', 'create', 'bot', '--policy', policy('bad.json', '{"rules": [')], says: /--policy .*bad\.json: .*JSON/ },
      { args: ['agents', 'create', 'bot', '--policy', policy('array.json', '[]')], says: /--policy .*array\.json: .*JSON object/ },
      { args: ['agents', 'update', 'bot', '--policy', policy('null.json', 'null'), '--lease-ttl', '1h'], says: /--policy .*null\.json: .*JSON object/ },
      { args: ['agents', 'create', 'bot', '--policy', join(dir, 'missing.json')], says: /--policy .*missing\.json/ },
      { args: ['connect-link', 'github', '--subject', 's', '--expires', 'next week'], says: /--expires.*"next week" is not a duration/ },
      { args: ['proposals', 'approve', 'p1', '--lease-ttl', 'long'], says: /--lease-ttl.*"long" is not a duration/ },
      { args: ['proposals', 'create', '--connection', 'github', '--reason', 'r', '--lease-ttl', '-5m'], says: /--lease-ttl.*"-5m" is not a duration/ },
      { args: ['secrets', 'create', '--name', 'n', '--value-file', policy('secret.json', '{bad')], says: /the secret must be a JSON object/ },
      { args: ['audit', 'prune', '--before', 'long ago'], says: /--before must be an ISO 8601 time or an age/ },
      { args: ['audit', '--limit', 'ten'], says: /--limit must be a positive whole number/ },
      // A flag that says the secret is on stdin, and stdin is empty: a mistake (a failed pipe), never "no secret".
      { args: ['mcp-servers', 'add', 'linear', '--url', 'https://mcp.example.com/mcp', '--client-id', 'abc', '--client-secret-stdin'], says: /--client-secret-stdin: standard input was empty/ },
      { args: ['providers', 'add', 'acme', '--preset', 'github', '--client-id', 'abc', '--client-secret-stdin'], says: /--client-secret-stdin: standard input was empty/ },
      { args: ['providers', 'update-client', 'acme', 'pc_1', '--client-secret-stdin'], says: /--client-secret-stdin: standard input was empty/ },
      { args: ['operators', 'add', 'ann', '--role', 'viewer', '--password-stdin'], says: /--password-stdin: standard input was empty/ },
      { args: ['operators', 'update', 'ann', '--password-stdin'], says: /--password-stdin: standard input was empty/ },
    ];
    for (const { args, says } of cases) {
      const result = await runCli(args, env());
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      // The first line says what is wrong (commander may add the command's help after it).
      assert.match(result.stderr.split('\n')[0] ?? '', says, args.join(' '));
      assert.doesNotMatch(result.stderr, /SyntaxError|\n {4}at /, `no stack trace for ${args.join(' ')}`);
      const json = await runCli(['--json', ...args], env());
      assert.equal(json.code, 2, `--json ${args.join(' ')}: ${json.stderr}`);
      const error = JSON.parse(json.stderr) as { error: string; message: string };
      assert.equal(error.error, 'usage');
      assert.match(error.message, says);
    }
    assert.equal(latchkey.seen.length, 0, 'no malformed input was sent');
  });

  test('a flag or file that is not JSON is named, its text never repeated (Node quotes the text around a bad token)', async () => {
    const secret = 'lkat_do_not_echo_me';
    const file = join(dir, 'secret-policy.json');
    writeFileSync(file, `{"rules": [], "token": ${secret}}`);
    const cases: Array<{ args: string[]; says: RegExp }> = [
      { args: ['invoke', 'github/user', '--data', `{"token": ${secret}}`], says: /--data is not JSON/ },
      { args: ['invoke', 'github', 'POST', '/x', '--data', `{"a":1,"token":"${secret}" x}`], says: /--data is not JSON/ },
      { args: ['agents', 'create', 'bot', '--policy', file], says: /--policy .*secret-policy\.json: not JSON/ },
    ];
    for (const { args, says } of cases) {
      for (const json of [false, true]) {
        const result = await runCli(json ? ['--json', ...args] : args, env());
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, says);
        assert.doesNotMatch(result.stderr + result.stdout, /lkat_|echo_me/, `the text is not repeated: ${result.stderr}`);
      }
    }
    assert.equal(latchkey.seen.length, 0, 'nothing was sent');
  });

  test('a name that a URL parser would resolve onto another route ("." or "..") is refused, and nothing is sent', async () => {
    const cases: string[][] = [
      ['agents', 'show', '.'],
      ['agents', 'remove', '..'],
      ['agents', 'rotate-key', '..'],
      ['invoke', '../leases'],
      ['invoke', 'github/..'],
    ];
    for (const args of cases) {
      const result = await runCli(args, env());
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /is not valid|not a valid name|would leave/, args.join(' '));
      assert.doesNotMatch(result.stderr, /nothing here/, `${args.join(' ')} reached the server`);
    }
    assert.deepEqual(latchkey.seen, [], 'nothing was sent');
  });

  test('mcp-tools call exits 1 on an isError result, with and without --json; --json still prints the result', async () => {
    const plain = await runCli(['mcp-tools', 'call', 'tracker__echo', '--arguments', '{}'], env());
    assert.equal(plain.code, 1, plain.stderr);
    assert.equal(plain.stdout.trim(), 'the tool failed');
    const json = await runCli(['--json', 'mcp-tools', 'call', 'tracker__echo', '--arguments', '{}'], env());
    assert.equal(json.code, 1, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { content: [{ type: 'text', text: 'the tool failed' }], isError: true });
    assert.equal(latchkey.seen.length, 2);
    assert.equal(latchkey.seen[0]?.authorization, `Bearer ${AGENT_KEY}`);
  });
});
