import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ProviderCreate, ProviderView } from '../../sdk/index.js';
import { adminClient, UsageError, type GlobalOptions } from '../context.js';
import { printFields, printJson, printTable, say } from '../output.js';

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

  providers
    .command('add <name>')
    .description('register a provider from a preset, by discovery (--issuer) or by hand')
    .option('--preset <preset>', 'start from a built-in preset (see `latchkey presets`)')
    .option('--issuer <url>', 'discover endpoints from OIDC / RFC 8414 metadata')
    .option('--auth-url <url>', 'authorization endpoint')
    .option('--token-url <url>', 'token endpoint')
    .option('--revocation-url <url>', 'revocation endpoint (RFC 7009)')
    .option('--device-auth-url <url>', 'device authorization endpoint (RFC 8628)')
    .option('--client-id <id>', 'OAuth client id')
    .option('--client-secret <secret>', 'OAuth client secret (prefer --client-secret-stdin)')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .option('--scope <scope>', 'default scope (repeatable, or space/comma separated)', collect)
    .option('--api-base-url <url>', 'API base URL the proxy sends requests to')
    .option('--allowed-host <host>', 'extra host a token may be sent to (repeatable)', collect)
    .option('--auth-method <method>', 'client_secret_basic, client_secret_post or none')
    .action(async (name: string, o: AddOptions) => {
      if (o.clientSecret !== undefined && o.clientSecretStdin) {
        throw new UsageError('give either --client-secret or --client-secret-stdin, not both');
      }
      const clientSecret = o.clientSecretStdin ? readFileSync(0, 'utf8').trim() : o.clientSecret;
      const body: ProviderCreate = { name };
      if (o.preset !== undefined) body.preset = o.preset;
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
      const created = await adminClient(globals()).providers.create(body);
      if (globals().json) printJson(created);
      else say`provider ${created.name} registered\n`;
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
    .option('--force', 'also delete its connections')
    .action(async (name: string, o: { force?: boolean }) => {
      const result = await adminClient(globals()).providers.remove(name, { force: o.force === true });
      if (globals().json) printJson(result);
      else say`provider ${name} removed\n`;
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
