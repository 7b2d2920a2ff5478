export * from './schemas.js';
export * from './names.js';
export * from './methods.js';
export * from './revocations.js';
export * from './text.js';
export * from './mcp.js';
export * from './mcp-servers.js';
export * from './proposals.js';
