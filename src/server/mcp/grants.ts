import type { AdapterPayload } from 'oidc-provider';
import type { Clock } from '../../clock.js';
import { NotFound } from '../../errors.js';
import type { McpOauthRow, McpOauthStore } from '../../store/index.js';
import { idHash } from './adapter.js';
import type { MetadataDocuments } from './cimd.js';

/** One MCP client an operator consented to act as an agent (an oidc-provider Grant), without any secret. */
export interface McpClientGrant {
  /** The grant's reference: the SHA-256 of its oidc-provider id, as the grant row is keyed (the id itself is never stored). */
  id: string;
  clientId: string;
  clientName: string | null;
  registration: 'dynamic' | 'metadata_document';
  redirectUris: string[];
  scopes: string[];
  consentedAt: string | null;
  expiresAt: string | null;
  /** When the client last got a token under this grant (code exchange or refresh), while that token is stored. */
  lastTokenIssuedAt: string | null;
}

const seconds = (value: unknown): string | null => (typeof value === 'number' && Number.isFinite(value) ? new Date(value * 1000).toISOString() : null);

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function parse(payload: string): Record<string, unknown> {
  try {
    const value = JSON.parse(payload) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The operator's view of the MCP clients acting as an agent, and the way to end
 * one: an agent's API keys and its MCP grants are independent credentials, so
 * removing a key leaves every grant working until it is revoked here.
 */
export function mcpClientGrants(deps: { store: McpOauthStore; clock: Clock; documents: MetadataDocuments }) {
  const { store, documents } = deps;
  const now = (): string => deps.clock.now().toISOString();

  /** The client's name and redirect URIs from what is stored (a registered client) or cached (a metadata document); never fetched. */
  async function clientOf(clientId: string): Promise<AdapterPayload | undefined> {
    if (documents.isDocumentUrl(clientId)) return documents.cached(clientId);
    const row = await store.find('Client', idHash(clientId), now());
    return row === undefined ? undefined : parse(row.payload);
  }

  async function lastTokenOf(grantHash: string): Promise<string | null> {
    let newest: number | undefined;
    for (const model of ['AccessToken', 'RefreshToken']) {
      const row = await store.newestOfGrant(model, grantHash);
      const iat = row === undefined ? undefined : parse(row.payload).iat;
      if (typeof iat === 'number' && (newest === undefined || iat > newest)) newest = iat;
    }
    return seconds(newest);
  }

  async function view(row: McpOauthRow): Promise<McpClientGrant> {
    const grant = parse(row.payload);
    const clientId = typeof grant.clientId === 'string' ? grant.clientId : '';
    const client = await clientOf(clientId);
    const openid = grant.openid as { scope?: unknown } | undefined;
    const resources = typeof grant.resources === 'object' && grant.resources !== null ? Object.values(grant.resources as Record<string, unknown>) : [];
    const scopes = [openid?.scope, ...resources].flatMap((s) => (typeof s === 'string' ? s.split(' ') : [])).filter((s) => s !== '');
    return {
      id: row.idHash,
      clientId,
      clientName: typeof client?.client_name === 'string' ? client.client_name : null,
      registration: documents.isDocumentUrl(clientId) ? 'metadata_document' : 'dynamic',
      redirectUris: strings(client?.redirect_uris),
      scopes: [...new Set(scopes)],
      consentedAt: seconds(grant.iat),
      expiresAt: row.expiresAt,
      lastTokenIssuedAt: await lastTokenOf(row.idHash),
    };
  }

  return {
    /** The agent's live grants, newest consent first. */
    async list(agentId: string): Promise<McpClientGrant[]> {
      const rows = await store.listByAccount('Grant', agentId, now());
      const views = await Promise.all(rows.map(view));
      return views.sort((a, b) => (b.consentedAt ?? '').localeCompare(a.consentedAt ?? '') || a.id.localeCompare(b.id));
    },
    /** Ends one of the agent's grants: every code, access token and refresh token issued under it stops working at once. */
    async revoke(agentId: string, id: string): Promise<McpClientGrant> {
      const row = await store.find('Grant', id, now());
      // The payload says whose grant it is (rows written before 0022 by an older replica may lack the column).
      if (row === undefined || parse(row.payload).accountId !== agentId) throw new NotFound(`this agent has no MCP client grant "${id}"`);
      const revoked = await view(row);
      await store.endGrant(id);
      return revoked;
    },
  };
}
