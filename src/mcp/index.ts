export { createMcpServer, runMcpStdio, type McpOptions } from './server.js';
