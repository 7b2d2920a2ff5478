import type { FastifyInstance } from 'fastify';
import { authorizationServerMetadata, protectedResourceMetadata } from '../../api/index.js';
import type { Latchkey } from '../../latchkey.js';
import { MCP_OAUTH_PREFIX, MCP_SCOPE, mcpIssuer, mcpResource, type McpAuthorizationServer } from '../mcp/authorization-server.js';
import { PRM_PATH } from '../mcp/endpoint.js';

/** Discovery for remote MCP clients: Protected Resource Metadata (RFC 9728) and the authorization server's (RFC 8414). Public. */
export async function mcpMetadataRoutes(app: FastifyInstance, core: Latchkey, as: McpAuthorizationServer): Promise<void> {
  const resourceMetadata = () => ({
    resource: mcpResource(core.config.publicUrl),
    authorization_servers: [mcpIssuer(core.config.publicUrl)],
    scopes_supported: [MCP_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Latchkey',
  });
  const serverMetadata = async () => {
    await as.ready();
    const provider = as.provider();
    const url = (name: string): string => provider.urlFor(name);
    return {
      issuer: mcpIssuer(core.config.publicUrl),
      authorization_endpoint: url('authorization'),
      token_endpoint: url('token'),
      registration_endpoint: url('registration'),
      revocation_endpoint: url('revocation'),
      jwks_uri: url('jwks'),
      scopes_supported: [MCP_SCOPE, 'offline_access', 'openid'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    };
  };
  const prm = { schema: { response: { 200: protectedResourceMetadata } } };
  const asm = { schema: { response: { 200: authorizationServerMetadata } } };
  app.get('/.well-known/oauth-protected-resource', prm, async () => resourceMetadata());
  app.get(PRM_PATH, prm, async () => resourceMetadata());
  // RFC 8414 puts an issuer's path after the well-known name; hosts that ask at the root get the same document.
  app.get('/.well-known/oauth-authorization-server', asm, async () => serverMetadata());
  app.get(`/.well-known/oauth-authorization-server${MCP_OAUTH_PREFIX}`, asm, async () => serverMetadata());
}
