import type { Db } from './dialect.js';
import { keysetPage, type Keyset } from './keyset.js';
import type { McpServersTable } from './schema.js';

export type McpServerRow = McpServersTable;

/** Owner of mcp_servers: the upstream MCP servers and the provider each one's OAuth goes through. */
export function mcpServerStore(db: Db) {
  const k = db.kysely;
  return {
    async insert(row: McpServerRow): Promise<void> {
      await k.insertInto('mcpServers').values(row).execute();
    },
    async findByName(name: string): Promise<McpServerRow | undefined> {
      return k.selectFrom('mcpServers').selectAll().where('name', '=', name).executeTakeFirst();
    },
    async findByProvider(providerId: string): Promise<McpServerRow | undefined> {
      return k.selectFrom('mcpServers').selectAll().where('providerId', '=', providerId).executeTakeFirst();
    },
    /** By name; a page of them when `page` is given. */
    async list(page?: Keyset): Promise<McpServerRow[]> {
      return keysetPage(k.selectFrom('mcpServers').selectAll(), ['name'], page).execute();
    },
    async remove(id: string): Promise<boolean> {
      const result = await k.deleteFrom('mcpServers').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type McpServerStore = ReturnType<typeof mcpServerStore>;
