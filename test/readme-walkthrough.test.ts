import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAuthorizationServer, type AuthorizationServer } from './fixtures/authorization-server.js';
import { CLI_PATH, REPO_ROOT, TEST_ADMIN_TOKEN, startLatchkey, type LatchkeyProcess } from './helpers/latchkey-process.js';
import { assertNoSecrets, eventually, openLink, visit } from './helpers/oauth-flows.js';
import { fixtureTokens } from './helpers/token-lifecycle.js';

/**
 * Issue 14 item 1: the README's walk-through runs as written. The commands are
 * read from README.md itself (the sh blocks after a `<!-- walkthrough` comment)
 * and run in order with bash, with `latchkey` on the PATH (the built CLI, as
 * `npm install --global .` puts it there). Only these are the test's own:
 * - URLs the README names stand for the test's servers (REPLACE below);
 * - an `export NAME=…` line with an ellipsis takes the value the walk-through
 *   produced (the admin token serve printed, the agent key `agents create` printed);
 * - the person in front of the browser: when `latchkey connect` prints its link
 *   (or its device code), the test consents at the test authorization server.
 * Every command must exit 0.
 */

interface Step {
  /** The command as the README writes it (continuation lines joined). */
  text: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** The walk-through's commands: logical lines of the marked sh blocks, comment-only lines left out. */
export function walkthroughCommands(readme: string): string[] {
  const commands: string[] = [];
  const blocks = [...readme.matchAll(/<!-- walkthrough[\s\S]*?-->\s*```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  for (const block of blocks) {
    let current = '';
    for (const line of block.split('\n')) {
      if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
      if (line.endsWith('\\')) {
        current += `${line}\n`;
        continue;
      }
      commands.push(current + line);
      current = '';
    }
  }
  return commands;
}

describe('the README walk-through', { timeout: 300_000 }, () => {
  let as: AuthorizationServer;
  let lk: LatchkeyProcess;
  let hooks: Server;
  let hookUrl: string;
  const deliveries: string[] = [];
  const steps: Step[] = [];
  const secrets: string[] = [];
  const neverShown: string[] = [];
  const running = new Set<ChildProcess>();
  const work = mkdtempSync(join(tmpdir(), 'latchkey-walkthrough-'));
  const commands = walkthroughCommands(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));

  before(async () => {
    as = await startAuthorizationServer();
    lk = await startLatchkey({ env: { LATCHKEY_ALLOW_HTTP_LOOPBACK: '1', LATCHKEY_WEBHOOK_INTERVAL: '1' } });
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        deliveries.push(body);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
    // `latchkey` on the PATH, as a global install puts it.
    mkdirSync(join(work, 'bin'));
    symlinkSync(CLI_PATH, join(work, 'bin', 'latchkey'));
    // carol.json: tokens obtained elsewhere, issued to the provider's own client.
    const carol = await fixtureTokens(as);
    neverShown.push(carol.accessToken, carol.refreshToken, as.confidentialClient.clientSecret ?? '');
    secrets.push(...neverShown);
    writeFileSync(join(work, 'carol.json'), JSON.stringify({ refreshToken: carol.refreshToken }), { mode: 0o600 });
  });

  after(async () => {
    for (const child of running) child.kill('SIGKILL');
    await lk?.stop();
    await as?.close();
    await new Promise((resolve) => hooks?.close(resolve));
  });

  test('is marked in README.md and walks the whole path', () => {
    const text = commands.join('\n');
    for (const needed of [
      /^latchkey providers add acme --issuer /m,
      /^latchkey connect acme --subject alice/m,
      /^latchkey connect acme --device/m,
      /^latchkey secrets create .*--value-file/m,
      /^latchkey agents create mail-bot --allow 'acme-\*:GET'/m,
      /^latchkey invoke acme-alice GET /m,
      /^latchkey lease acme-alice/m,
      /^curl .*\/v1\/proxy\/acme-alice\//m,
      /^export LATCHKEY_AGENT_KEY=/m,
    ]) {
      assert.match(text, needed);
    }
    // Secrets never on the command line in the walk-through.
    assert.doesNotMatch(text, /--value '|--client-secret [^-]/);
  });

  test('runs as written against a real server, every command exiting 0', async () => {
    const REPLACE: Array<[string, string]> = [
      ['https://id.acme.example', as.issuer],
      ['https://api.acme.example', `${as.baseUrl}/api`],
      ['https://ops.example/hooks', hookUrl],
      ['http://127.0.0.1:8787', lk.url],
    ];
    const produced: Record<string, () => string> = {
      LATCHKEY_ADMIN_TOKEN: () => TEST_ADMIN_TOKEN,
      LATCHKEY_AGENT_KEY: () => {
        const created = [...steps].reverse().find((s) => s.text.startsWith('latchkey agents create'));
        const key = /API key \(shown once\):\n\s+(lk_\S+)/.exec(created?.stdout ?? '')?.[1];
        assert.ok(key, 'agents create printed the key');
        return key;
      },
    };
    const env: Record<string, string> = {
      PATH: `${join(work, 'bin')}:${process.env.PATH ?? ''}`,
      HOME: work,
      LATCHKEY_URL: lk.url,
      ACME_CLIENT_ID: as.confidentialClient.clientId,
      ACME_CLIENT_SECRET: as.confidentialClient.clientSecret ?? '',
    };

    for (const command of commands) {
      const exported = /^export ([A-Z_]+)=(\S*)/.exec(command);
      if (exported !== null) {
        const [, name, value] = exported as unknown as [string, string, string];
        const fill = produced[name];
        env[name] = value.includes('…') && fill !== undefined ? fill() : value;
        if (name === 'LATCHKEY_AGENT_KEY') secrets.push(env[name] ?? '');
        continue;
      }
      const text = REPLACE.reduce((t, [from, to]) => t.split(from).join(to), command);
      const child = spawn('bash', ['-c', text], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
      // The person at the browser.
      if (/^latchkey connect /.test(command)) {
        const subject = /--subject (\S+)/.exec(command)?.[1];
        const account = subject === undefined ? {} : { accountId: subject };
        if (command.includes('--device')) {
          const userCode = await eventually(async () => /enter the code:\s+(\S+)/.exec(stdout)?.[1]);
          await as.approveDevice(userCode, account);
        } else if (!command.includes('--client-credentials')) {
          const link = await eventually(async () => /(http:\/\/127\.0\.0\.1:\d+\/oauth\/start\/\S+)/.exec(stdout)?.[1]);
          const location = await as.approve(await openLink(link), account);
          assert.equal((await visit(location)).status, 200);
        }
      }
      const code = await exited;
      running.delete(child);
      steps.push({ text: command, code, stdout, stderr });
      assert.equal(code, 0, `README command failed:\n${command}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
    }

    const step = (prefix: string): Step => {
      const found = steps.find((s) => s.text.startsWith(prefix));
      assert.ok(found, prefix);
      return found;
    };
    // What the walk-through says happens, happens.
    assert.match(step('latchkey connect acme --subject alice').stdout, /connection acme-alice is active/);
    assert.match(step('latchkey connect acme --device').stdout, /connection acme-bob is active/);
    assert.match(step('latchkey secrets create').stdout, /acme-carol \(acme\) imported, refresh token verified/);
    assert.equal((JSON.parse(step('latchkey connections show acme-alice --json').stdout) as { subject: string; status: string }).status, 'active');
    assert.equal((JSON.parse(step('latchkey invoke acme-alice GET /me').stdout) as { sub: string }).sub, 'alice');
    assert.match(step('latchkey lease acme-alice').stdout, /^\S+\n$/);
    assert.equal((JSON.parse(step('curl ').stdout) as { sub: string }).sub, 'alice');
    assert.match(step('latchkey audit --agent mail-bot').stdout, /proxy\.request/);
    assert.match(step('latchkey me').stdout, /acme-alice/);
    assert.match(step('latchkey audit verify').stdout, /ok|verified/i);
    // The client secret and imported tokens went in through stdin and a file, and come out nowhere.
    assertNoSecrets(steps.map((s) => s.stdout + s.stderr).join('\n'), neverShown, 'the commands\' output');
    secrets.push(...steps.filter((s) => s.text.startsWith('latchkey lease')).map((s) => s.stdout.trim()));
    assertNoSecrets(lk.output(), secrets, 'the server output');
  });
});
