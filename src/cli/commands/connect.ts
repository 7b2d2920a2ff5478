import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { ConnectionView, LatchkeyAdmin } from '../../sdk/index.js';
import { CliFailure, UsageError, adminClient, type GlobalOptions } from '../context.js';
import { escaped, printJson, say } from '../output.js';

interface ConnectOptions {
  name?: string;
  subject?: string;
  env?: string;
  scope?: string[];
  device?: boolean;
  clientCredentials?: boolean;
  browser?: boolean;
  returnTo?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/[\s,]+/).filter(Boolean)];
}

const POLL_MS = 500;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Opens a URL in the desktop's browser; does nothing on a headless machine. */
export function openBrowser(url: string): boolean {
  const opener =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? ['xdg-open', [url]]
          : undefined;
  if (opener === undefined) return false;
  const [command, args] = opener as [string, string[]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits for the server to finish the flow: `active` is success; `error`, or a
 * new lastError on a connection being re-authorized, is failure.
 */
async function waitForConnection(
  client: LatchkeyAdmin,
  connectionId: string,
  deadline: Date,
  label: string,
): Promise<ConnectionView> {
  const initial = await client.connections.get(connectionId);
  const spin = process.stderr.isTTY === true;
  let frame = 0;
  try {
    for (;;) {
      const c = await client.connections.get(connectionId);
      if (c.status === 'active') return c;
      if (c.status === 'error' || (c.updatedAt !== initial.updatedAt && c.lastError !== null && c.lastError !== initial.lastError)) {
        throw new CliFailure(`connection ${c.name} failed: ${c.lastError ?? c.status}`);
      }
      if (Date.now() > deadline.getTime()) {
        throw new CliFailure(`gave up waiting for connection ${c.name}: the request expired at ${deadline.toISOString()}`);
      }
      if (spin) process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (spin) process.stderr.write('\r\x1b[K');
  }
}

export function connectCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('connect <provider>')
    .description('connect an account: opens the consent page (or prints a device code) and waits until it is active')
    .option('--name <name>', 'connection name (default: provider[-subject])')
    .option('--subject <subject>', 'the end user this connection belongs to')
    .option('--env <environment>', 'environment (default "default")')
    .option('--scope <scope>', 'scope to request (repeatable; default: the provider scopes)', collect)
    .option('--device', 'use the device authorization grant (RFC 8628)')
    .option('--client-credentials', "use the client credentials grant: the connection is the provider's client itself, active at once")
    .option('--no-browser', 'print the URL without opening a browser')
    .option('--return-to <url>', 'where the browser goes after consent (a path or an allowed origin)')
    .action(async (provider: string, o: ConnectOptions) => {
      const client = adminClient(globals());
      const json = globals().json === true;
      // With --json, stdout carries only the final connection JSON; prompts go to stderr.
      const prompt = (strings: TemplateStringsArray, ...values: unknown[]): boolean =>
        (json ? process.stderr : process.stdout).write(escaped(strings, ...values));
      const body = {
        ...(o.name === undefined ? {} : { name: o.name }),
        ...(o.subject === undefined ? {} : { subject: o.subject }),
        ...(o.env === undefined ? {} : { environment: o.env }),
        ...(o.scope === undefined ? {} : { scopes: o.scope }),
      };
      if (o.clientCredentials === true) {
        if (o.device === true) throw new UsageError('give either --device or --client-credentials, not both');
        if (o.subject !== undefined || o.returnTo !== undefined) throw new UsageError('--client-credentials takes no --subject or --return-to (no person consents)');
        const { subject: _subject, ...clientBody } = body;
        const connection = await client.connect.clientCredentials(provider, clientBody);
        if (json) return printJson(connection);
        return say`connection ${connection.name} is active (client credentials; scopes: ${connection.scopes.join(' ') || '-'})\n`;
      }
      // Before anyone consents: a missing client secret would only show at the token request.
      const { secretMissingWarning } = await import('./providers.js');
      const warning = secretMissingWarning(await client.providers.get(provider));
      if (warning !== undefined) process.stderr.write(warning);
      let connectionId: string;
      let deadline: Date;
      if (o.device) {
        const started = await client.connect.device(provider, body);
        prompt`To connect ${provider}, open ${started.verificationUri}\nand enter the code:  ${started.userCode}\n`;
        if (started.verificationUriComplete !== null) prompt`(or open ${started.verificationUriComplete})\n`;
        if (o.browser !== false && started.verificationUriComplete !== null) openBrowser(started.verificationUriComplete);
        ({ connectionId } = started);
        deadline = new Date(started.expiresAt);
      } else {
        const started = await client.connect.authorizationCode(provider, {
          ...body,
          ...(o.returnTo === undefined ? {} : { returnTo: o.returnTo }),
        });
        prompt`Open this URL to connect ${provider}:\n\n  ${started.authorizationUrl}\n\n`;
        if (o.browser !== false && openBrowser(started.authorizationUrl)) prompt`(opened in your browser)\n`;
        ({ connectionId } = started);
        deadline = new Date(started.expiresAt);
      }
      const connection = await waitForConnection(client, connectionId, deadline, 'waiting for consent…');
      if (json) return printJson(connection);
      const expiry = connection.expiresAt === null ? 'does not expire' : `expires ${connection.expiresAt}`;
      say`connection ${connection.name} is active (scopes: ${connection.scopes.join(' ') || '-'}; token ${expiry})\n`;
    });
}
