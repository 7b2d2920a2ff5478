/**
 * The MCP gateway's part of the REST contract: upstream MCP servers (admin)
 * and their tools (agent keys). Request and response schemas both.
 */
import { CONNECTION_NAME_PATTERN } from './names.js';
import { nullableString } from './responses.js';
import { lineString as line } from './schemas.js';

/** MCP server names: those of providers, without "__" (the tool name separator). */
export const MCP_SERVER_NAME_PATTERN = '^(?!.*__)[a-z0-9][a-z0-9._-]{0,62}$';
/**
 * A new server's name: the characters only here, so that the registry's own check answers a name holding "__" or
 * ending in "_" with a message saying why (a pattern mismatch would not). Looking one up keeps the pattern above,
 * which still finds a server named before names ending in "_" were refused.
 */
const NEW_MCP_SERVER_NAME = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
  description: 'lower-case letters, digits, ".", "_" or "-"; no "__" and not ending in "_" (tools are named server__tool)',
} as const;
/** MCP tool names (the MCP specification: letters, digits, "_", "-", "."; at most 128). */
export const MCP_TOOL_NAME_PATTERN = '^[A-Za-z0-9_.-]{1,128}$';

export const createMcpServerBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'url'],
  properties: {
    name: NEW_MCP_SERVER_NAME,
    url: line,
    clientId: line,
    clientSecret: line,
  },
} as const;

export const mcpServerParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: MCP_SERVER_NAME_PATTERN } },
} as const;


export const mcpServerView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'url', 'resource', 'provider', 'issuer', 'registration', 'clientId', 'scopes', 'resourceMetadataUrl', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string' },
    resource: { type: 'string' },
    provider: { type: 'string' },
    issuer: { type: 'string' },
    registration: { enum: ['cimd', 'dcr', 'manual'] },
    clientId: nullableString,
    scopes: { type: 'array', items: { type: 'string' } },
    resourceMetadataUrl: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const mcpToolView = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'server', 'tool', 'description', 'inputSchema'],
  properties: {
    name: { type: 'string' },
    server: { type: 'string' },
    tool: { type: 'string' },
    description: { type: 'string' },
    inputSchema: { type: 'object', additionalProperties: true },
  },
} as const;

export const mcpToolParams = {
  type: 'object',
  required: ['server', 'tool'],
  properties: {
    server: { type: 'string', pattern: MCP_SERVER_NAME_PATTERN },
    tool: { type: 'string', pattern: MCP_TOOL_NAME_PATTERN },
  },
} as const;

export const mcpToolCallBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    connection: { type: 'string', pattern: CONNECTION_NAME_PATTERN },
    arguments: { type: 'object', additionalProperties: true },
  },
} as const;

/** The upstream's CallToolResult (MCP), relayed with every token form masked. */
export const mcpToolResult = {
  type: 'object',
  additionalProperties: true,
  required: ['content'],
  properties: {
    content: {
      type: 'array',
      items: { type: 'object', additionalProperties: true, required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' } } },
    },
    structuredContent: { type: 'object', additionalProperties: true },
    isError: { type: 'boolean' },
  },
} as const;

/** Latchkey's own OAuth Client ID Metadata Document (for upstream authorization servers that take one). */
export const clientMetadataDocument = {
  type: 'object',
  additionalProperties: false,
  required: ['client_id', 'client_name', 'redirect_uris', 'grant_types', 'response_types', 'token_endpoint_auth_method'],
  properties: {
    client_id: { type: 'string' },
    client_name: { type: 'string' },
    client_uri: { type: 'string' },
    redirect_uris: { type: 'array', items: { type: 'string' } },
    grant_types: { type: 'array', items: { type: 'string' } },
    response_types: { type: 'array', items: { type: 'string' } },
    token_endpoint_auth_method: { type: 'string' },
  },
} as const;
