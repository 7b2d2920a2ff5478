import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LatchkeyApiError, type ConnectionImport, type ProviderCreate } from '../../sdk/index.js';
import { adminClient, CliFailure, UsageError, type GlobalOptions } from '../context.js';
import { printJson, say, sayError } from '../output.js';

/** The aivault-style secret value: an OAuth client plus the tokens obtained with it. */
interface SecretValue {
  provider?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  accessToken?: string;
  expiresAt?: string;
  tokenUrl?: string;
  authUrl?: string;
  scopes?: string[] | string;
  subject?: string;
  environment?: string;
  tokenType?: string;
  /** A Salesforce token response's instance_url: the connection's API base. */
  instanceUrl?: string;
}

const STRING_FIELDS = [
  'provider',
  'clientId',
  'clientSecret',
  'refreshToken',
  'accessToken',
  'expiresAt',
  'tokenUrl',
  'authUrl',
  'subject',
  'environment',
  'tokenType',
  'instanceUrl',
] as const;

export function parseSecretValue(text: string): SecretValue {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('the secret must be a JSON object such as {"clientId":"…","clientSecret":"…","refreshToken":"…"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('the secret must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (record[field] !== undefined && typeof record[field] !== 'string') {
      throw new UsageError(`the secret's "${field}" must be a string`);
    }
  }
  if (!record.refreshToken && !record.accessToken) {
    throw new UsageError('the secret needs a refreshToken or an accessToken');
  }
  return record as SecretValue;
}

/** The secret JSON from exactly one of --value-stdin, --value-file, --value. */
function readValue(o: { value?: string; valueStdin?: boolean; valueFile?: string }): string {
  const given = [o.value !== undefined, o.valueStdin === true, o.valueFile !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give the secret JSON with exactly one of --value-stdin, --value-file FILE or --value JSON');
  if (o.valueStdin) return readFileSync(0, 'utf8');
  if (o.valueFile !== undefined) {
    try {
      return readFileSync(o.valueFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--value-file ${o.valueFile}: ${(err as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
  }
  sayError`warning: --value puts the tokens in your shell history and process list; prefer --value-stdin or --value-file\n`;
  return o.value as string;
}

export function secretsCommand(program: Command, globals: () => GlobalOptions): void {
  const secrets = program.command('secrets').description('import OAuth credentials obtained elsewhere');

  secrets
    .command('create')
    .description('import a connection from aivault-style JSON {clientId, clientSecret, refreshToken, ...}')
    .requiredOption('--name <name>', 'connection name')
    .option('--value-stdin', 'read the JSON from standard input (keeps the tokens out of shell history and process lists)')
    .option('--value-file <file>', 'read the JSON from a file')
    .option('--value <json>', 'the JSON on the command line (avoid: it ends up in shell history and `ps`)')
    .option('--provider <provider>', 'provider or preset name (default: "provider" in the JSON, else the name)')
    .option('--no-verify', 'do not check the refresh token with one refresh after the import')
    .addHelpText(
      'after',
      '\nThe JSON: {"clientId","clientSecret","refreshToken","accessToken","expiresAt","scopes","subject","environment","tokenUrl","authUrl","instanceUrl"}\n' +
        'With a refreshToken, the import is checked with one refresh: a refused token leaves the connection needs_reauth and exits 1.\n',
    )
    .action(async (o: { name: string; value?: string; valueStdin?: boolean; valueFile?: string; provider?: string; verify: boolean }) => {
      const value = parseSecretValue(readValue(o));
      const providerName = (o.provider ?? value.provider ?? o.name).toLowerCase();
      const client = adminClient(globals());
      // A new provider gets this client as its default; an existing one keeps its own, and the
      // import selects or adds this client (the server never rewrites a client in use).
      let existing = true;
      try {
        await client.providers.get(providerName);
      } catch (err) {
        if (!(err instanceof LatchkeyApiError && err.code === 'not_found')) throw err;
        existing = false;
      }
      const clientFields: Partial<ProviderCreate> = {};
      if (value.clientId !== undefined) clientFields.clientId = value.clientId;
      if (value.clientSecret !== undefined) clientFields.clientSecret = value.clientSecret;
      if (!existing) {
        const presets = await client.presets();
        const preset = presets.find((p) => p.name === providerName);
        if (preset === undefined && value.tokenUrl === undefined) {
          throw new UsageError(
            `there is no provider or preset "${providerName}": pass --provider, or give "tokenUrl" in the JSON`,
          );
        }
        await client.providers.create({
          name: providerName,
          ...(preset === undefined ? {} : { preset: preset.name }),
          ...(value.tokenUrl === undefined ? {} : { tokenEndpoint: value.tokenUrl }),
          ...(value.authUrl === undefined ? {} : { authorizationEndpoint: value.authUrl }),
          ...clientFields,
        });
      }
      const scopes = typeof value.scopes === 'string' ? value.scopes.split(/[\s,]+/).filter(Boolean) : value.scopes;
      const body: ConnectionImport = { name: o.name, provider: providerName };
      if (value.accessToken !== undefined) body.accessToken = value.accessToken;
      if (value.refreshToken !== undefined) body.refreshToken = value.refreshToken;
      if (value.expiresAt !== undefined) body.expiresAt = value.expiresAt;
      if (value.subject !== undefined) body.subject = value.subject;
      if (value.environment !== undefined) body.environment = value.environment;
      if (value.tokenType !== undefined) body.tokenType = value.tokenType;
      if (value.instanceUrl !== undefined) body.apiBaseUrl = value.instanceUrl;
      if (scopes !== undefined) body.scopes = scopes;
      if (value.clientId !== undefined) body.clientId = value.clientId;
      if (value.clientSecret !== undefined) body.clientSecret = value.clientSecret;
      let connection = await client.connections.import(body);
      let unverified: string | undefined;
      if (o.verify && value.refreshToken !== undefined) {
        // One refresh proves the refresh token (and the client) work before anyone relies on the connection.
        try {
          connection = await client.connections.refresh(connection.name);
        } catch (err) {
          if (!(err instanceof LatchkeyApiError)) throw err;
          if (err.code === 'needs_reauth' || err.code === 'provider_misconfigured') {
            const now = await client.connections.get(connection.name).catch(() => connection);
            if (globals().json) printJson(now);
            throw new CliFailure(
              `connection ${connection.name} was imported, but the provider refused its refresh token (${err.code}: ${err.message}); ` +
                `it is ${now.status}: import a fresh token, or reconnect it`,
            );
          }
          // The provider could not be asked now (down, unreachable): the token is checked on first use.
          unverified = `${err.code}: ${err.message}`;
        }
      }
      if (globals().json) printJson(connection);
      else say`connection ${connection.name} (${connection.provider}) imported${o.verify && value.refreshToken !== undefined && unverified === undefined ? ', refresh token verified' : ''}\n`;
      if (unverified !== undefined) sayError`warning: the refresh token could not be checked now (${unverified}); it will be on first use\n`;
    });
}
