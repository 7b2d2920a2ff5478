import type { Command } from 'commander';
import { LatchkeyApiError, type ConnectionImport, type ProviderCreate } from '../../sdk/index.js';
import { adminClient, UsageError, type GlobalOptions } from '../context.js';
import { printJson, say } from '../output.js';

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
    throw new UsageError('--value must be a JSON object such as {"clientId":"…","clientSecret":"…","refreshToken":"…"}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--value must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (record[field] !== undefined && typeof record[field] !== 'string') {
      throw new UsageError(`--value: "${field}" must be a string`);
    }
  }
  if (!record.refreshToken && !record.accessToken) {
    throw new UsageError('--value needs a refreshToken or an accessToken');
  }
  return record as SecretValue;
}

export function secretsCommand(program: Command, globals: () => GlobalOptions): void {
  const secrets = program.command('secrets').description('import OAuth credentials obtained elsewhere');

  secrets
    .command('create')
    .description('import a connection from aivault-style JSON {clientId, clientSecret, refreshToken, ...}')
    .requiredOption('--name <name>', 'connection name')
    .requiredOption('--value <json>', 'JSON with clientId, clientSecret, refreshToken, accessToken, expiresAt, scopes (and instanceUrl for Salesforce)')
    .option('--provider <provider>', 'provider or preset name (default: "provider" in the JSON, else the name)')
    .action(async (o: { name: string; value: string; provider?: string }) => {
      const value = parseSecretValue(o.value);
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
      const connection = await client.connections.import(body);
      if (globals().json) printJson(connection);
      else say`connection ${connection.name} (${connection.provider}) imported\n`;
    });
}
