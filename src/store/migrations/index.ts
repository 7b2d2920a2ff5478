import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as oauth from './0002_oauth.js';
import * as lifecycle from './0003_lifecycle.js';
import * as agentsAudit from './0004_agents_audit.js';
import * as auditBlocks from './0005_audit_blocks.js';
import * as connectionApiBase from './0006_connection_api_base.js';
import * as auditAnchors from './0007_audit_anchors.js';
import * as refreshFence from './0008_refresh_fence.js';
import * as faults from './0009_faults.js';
import * as providerClients from './0010_provider_clients.js';
import * as browserBinding from './0013_browser_binding.js';
import * as providerIntegrity from './0014_provider_integrity.js';
import * as operators from './0015_operators.js';
import * as connectLinks from './0016_connect_links.js';
import * as proposals from './0017_proposals.js';
import * as mcpServers from './0019_mcp_servers.js';
import * as listIndexes from './0020_list_indexes.js';
import * as mcpOauth from './0018_mcp_oauth.js';
import * as revocationClient from './0021_revocation_client.js';
import * as mcpOauthAccount from './0022_mcp_oauth_account.js';

/** Every migration, in order. Names are permanent once released. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_oauth': oauth,
  '0003_lifecycle': lifecycle,
  '0004_agents_audit': agentsAudit,
  '0005_audit_blocks': auditBlocks,
  '0006_connection_api_base': connectionApiBase,
  '0007_audit_anchors': auditAnchors,
  '0008_refresh_fence': refreshFence,
  '0009_faults': faults,
  '0010_provider_clients': providerClients,
  '0013_browser_binding': browserBinding,
  '0014_provider_integrity': providerIntegrity,
  '0015_operators': operators,
  '0016_connect_links': connectLinks,
  '0017_proposals': proposals,
  '0019_mcp_servers': mcpServers,
  '0020_list_indexes': listIndexes,
  '0018_mcp_oauth': mcpOauth,
  '0021_revocation_client': revocationClient,
  '0022_mcp_oauth_account': mcpOauthAccount,
};
