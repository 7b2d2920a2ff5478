import { InvalidArgumentError, type Command } from 'commander';
import type { ProviderCreate, ProviderView } from '../../sdk/index.js';
import { adminClient, secretFromStdin, UsageError, type GlobalOptions } from '../context.js';
import { escaped, printFields, printJson, printTable, say } from '../output.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/[\s,]+/).filter(Boolean)];
}

interface AddOptions {
  preset?: string;
  issuer?: string;
  authUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  deviceAuthUrl?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretStdin?: boolean;
  scope?: string[];
  apiBaseUrl?: string;
  allowedHost?: string[];
  authMethod?: ProviderCreate['tokenEndpointAuthMethod'];
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

function authMethod(value: string): NonNullable<ProviderCreate['tokenEndpointAuthMethod']> {
  const method = AUTH_METHODS.find((m) => m === value);
  if (method === undefined) throw new InvalidArgumentError(`use one of ${AUTH_METHODS.join(', ')}`);
  return method;
}

/** The options `providers add` and `providers update` share. */
function withProviderOptions(command: Command): Command {
  return command
    .option('--issuer <url>', 'discover endpoints from OIDC / RFC 8414 metadata')
    .option('--auth-url <url>', 'authorization endpoint')
    .option('--token-url <url>', 'token endpoint')
    .option('--revocation-url <url>', 'revocation endpoint (RFC 7009)')
    .option('--device-auth-url <url>', 'device authorization endpoint (RFC 8628)')
    .option('--client-id <id>', 'OAuth client id')
    .option('--client-secret <secret>', 'OAuth client secret (prefer --client-secret-stdin: command lines end up in shell history)')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .option('--scope <scope>', 'default scope (repeatable, or space/comma separated)', collect)
    .option('--api-base-url <url>', 'API base URL the proxy sends requests to')
    .option('--allowed-host <host>', 'extra host a token may be sent to (repeatable)', collect)
    .option('--auth-method <method>', 'client_secret_basic, client_secret_post or none', authMethod);
}

/** The request fields the shared options give (only those given). */
function providerBody(o: AddOptions): Partial<ProviderCreate> {
  if (o.clientSecret !== undefined && o.clientSecretStdin) {
    throw new UsageError('give either --client-secret or --client-secret-stdin, not both');
  }
  const clientSecret = o.clientSecretStdin ? secretFromStdin('--client-secret-stdin') : o.clientSecret;
  const body: Partial<ProviderCreate> = {};
  if (o.issuer !== undefined) body.issuer = o.issuer;
  if (o.authUrl !== undefined) body.authorizationEndpoint = o.authUrl;
  if (o.tokenUrl !== undefined) body.tokenEndpoint = o.tokenUrl;
  if (o.revocationUrl !== undefined) body.revocationEndpoint = o.revocationUrl;
  if (o.deviceAuthUrl !== undefined) body.deviceAuthorizationEndpoint = o.deviceAuthUrl;
  if (o.clientId !== undefined) body.clientId = o.clientId;
  if (clientSecret !== undefined && clientSecret !== '') body.clientSecret = clientSecret;
  if (o.scope !== undefined) body.scopes = o.scope;
  if (o.apiBaseUrl !== undefined) body.apiBaseUrl = o.apiBaseUrl;
  if (o.allowedHost !== undefined) body.allowedHosts = o.allowedHost;
  if (o.authMethod !== undefined) body.tokenEndpointAuthMethod = o.authMethod;
  return body;
}

/**
 * A provider whose token endpoint expects a client secret (its auth method is
 * not "none") but has none fails only at the token request, after the user
 * consented: say so now.
 */
export function secretMissingWarning(p: Pick<ProviderView, 'name' | 'tokenEndpointAuthMethod' | 'hasClientSecret' | 'clientId'>): string | undefined {
  if (p.hasClientSecret || p.tokenEndpointAuthMethod === 'none' || p.clientId === null || p.clientId === '') return undefined;
  return escaped`warning: provider ${p.name} has no client secret, but its token endpoint expects one (${p.tokenEndpointAuthMethod}): ` +
    escaped`the token request after consent will fail. Set it with \`latchkey providers update ${p.name} --client-secret-stdin\`, ` +
    'or use --auth-method none if this is a public client.\n';
}

function warnIfSecretMissing(p: ProviderView): void {
  const warning = secretMissingWarning(p);
  if (warning !== undefined) process.stderr.write(warning);
}

export function showProvider(p: ProviderView): void {
  printFields([
    ['name', p.name],
    ['display name', p.displayName],
    ['preset', p.preset],
    ['issuer', p.issuer],
    ['authorization', p.authorizationEndpoint],
    ['token', p.tokenEndpoint],
    ['revocation', p.revocationEndpoint],
    ['device', p.deviceAuthorizationEndpoint],
    ['redirect uri', p.redirectUri],
    ['client id', p.clientId],
    ['client secret', p.hasClientSecret ? '(set)' : '(none)'],
    ['auth method', p.tokenEndpointAuthMethod],
    ['scopes', p.scopes],
    ['api base url', p.apiBaseUrl],
    ['allowed hosts', p.allowedHosts],
    ['capabilities', p.capabilities.map((c) => c.name)],
    ['status', p.status],
    ...(p.status === 'ok'
      ? []
      : ([
          ['status reason', p.statusReason],
          ['status since', p.statusSince],
          ['next check', p.nextCheckAt],
        ] satisfies Array<[string, string | null]>)),
  ]);
}

export function providersCommand(program: Command, globals: () => GlobalOptions): void {
  const providers = program.command('providers').description('register and manage OAuth providers');

  withProviderOptions(
    providers
      .command('add <name>')
      .description('register a provider from a preset, by discovery (--issuer) or by hand')
      .option('--preset <preset>', 'start from a built-in preset (see `latchkey presets`)'),
  ).action(async (name: string, o: AddOptions) => {
    const body: ProviderCreate = { name, ...providerBody(o) };
    if (o.preset !== undefined) body.preset = o.preset;
    const created = await adminClient(globals()).providers.create(body);
    if (globals().json) printJson(created);
    else say`provider ${created.name} registered\n`;
    warnIfSecretMissing(created);
  });

  withProviderOptions(
    providers
      .command('update <name>')
      .description('change a provider: endpoints, client, scopes, API base (e.g. after discovery); only the flags given change')
      .option('--no-client-secret', 'remove the client secret (a public client, token endpoint auth "none")'),
  ).action(async (name: string, given: Omit<AddOptions, 'clientSecret'> & { clientSecret?: string | boolean }) => {
    // With --no-client-secret declared, commander defaults the option to true: that means "not given".
    const o = { ...given, clientSecret: given.clientSecret === true ? undefined : given.clientSecret };
    if (o.clientSecret === false && o.clientSecretStdin) throw new UsageError('give either --client-secret-stdin or --no-client-secret, not both');
    const body: Partial<ProviderCreate> = providerBody({ ...o, clientSecret: o.clientSecret === false ? undefined : o.clientSecret });
    if (o.clientSecret === false) body.clientSecret = null;
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one option (see `latchkey providers update --help`)');
    const updated = await adminClient(globals()).providers.update(name, body);
    if (globals().json) printJson(updated);
    else say`provider ${updated.name} updated\n`;
    warnIfSecretMissing(updated);
  });

  providers
    .command('update-client <name> <id>')
    .description("change one of the provider's OAuth clients (see `latchkey providers clients NAME`): its secret or auth method")
    .option('--client-secret-stdin', 'read the new client secret from standard input')
    .option('--no-client-secret', 'remove the client secret (a public client)')
    .option('--auth-method <method>', 'client_secret_basic, client_secret_post or none', authMethod)
    .action(async (name: string, id: string, o: { clientSecretStdin?: boolean; clientSecret?: false; authMethod?: ProviderCreate['tokenEndpointAuthMethod'] }) => {
      if (o.clientSecret === false && o.clientSecretStdin) throw new UsageError('give either --client-secret-stdin or --no-client-secret, not both');
      const body: { clientSecret?: string | null; tokenEndpointAuthMethod?: ProviderCreate['tokenEndpointAuthMethod'] } = {};
      if (o.clientSecretStdin) body.clientSecret = secretFromStdin('--client-secret-stdin');
      if (o.clientSecret === false) body.clientSecret = null;
      if (o.authMethod !== undefined) body.tokenEndpointAuthMethod = o.authMethod;
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give --client-secret-stdin, --no-client-secret or --auth-method');
      const updated = await adminClient(globals()).providers.updateClient(name, id, body);
      if (globals().json) printJson(updated);
      else say`client ${updated.clientId} of ${name} updated\n`;
    });

  providers
    .command('list')
    .description('list providers')
    .action(async () => {
      const list = await adminClient(globals()).providers.list();
      if (globals().json) return printJson(list);
      printTable(
        ['name', 'preset', 'client id', 'secret', 'api base url', 'status'],
        list.map((p) => [p.name, p.preset, p.clientId, p.hasClientSecret ? 'yes' : 'no', p.apiBaseUrl, p.status]),
      );
    });

  providers
    .command('show <name>')
    .description('show one provider')
    .action(async (name: string) => {
      const p = await adminClient(globals()).providers.get(name);
      if (globals().json) printJson(p);
      else showProvider(p);
    });

  providers
    .command('clients <name>')
    .description("list the provider's OAuth clients and how many connections use each (never a secret)")
    .action(async (name: string) => {
      const list = await adminClient(globals()).providers.clients(name);
      if (globals().json) return printJson(list);
      printTable(
        ['id', 'client id', 'secret', 'auth method', 'connections'],
        list.map((c) => [c.id ?? '(default)', c.clientId, c.hasClientSecret ? 'yes' : 'no', c.tokenEndpointAuthMethod, String(c.connections)]),
      );
    });

  providers
    .command('remove <name>')
    .description('delete a provider (refused while connections use it, unless --force)')
    .option('--force', 'also delete its connections (each revoked at the provider, or retried later)')
    .action(async (name: string, o: { force?: boolean }) => {
      const result = await adminClient(globals()).providers.remove(name, { force: o.force === true });
      if (globals().json) printJson(result);
      else if (result.removedConnections === 0) say`provider ${name} removed\n`;
      else say`provider ${name} removed (${result.removedConnections} connection(s) deleted, ${result.revokedAtProvider} revoked at the provider)\n`;
    });
}

export function presetsCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('presets')
    .description('list built-in provider presets')
    .action(async () => {
      const list = await adminClient(globals()).presets();
      if (globals().json) return printJson(list);
      printTable(
        ['name', 'display name', 'api base url', 'capabilities'],
        list.map((p) => [p.name, p.displayName, p.apiBaseUrl, p.capabilities.map((c) => c.name).join(',')]),
      );
    });
}
