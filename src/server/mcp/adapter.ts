import { createHash, createHmac } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../../clock.js';
import type { McpOauthRow, McpOauthStore } from '../../store/index.js';
import { loadOidcProvider } from './oidc.js';

/** SHA-256 (hex) of an id: the only form in which a code, token, uid or grant id reaches the database. */
export function idHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/**
 * A registered client's secret is never stored: it is an HMAC of its client
 * id under a key derived from the master key, computed again when the client
 * is read. So the database holds no secret for it either.
 */
export function clientSecretFor(key: Buffer, clientId: string): string {
  return createHmac('sha256', key).update(`mcp client secret\0${clientId}`).digest('base64url');
}

export interface AdapterDeps {
  store: McpOauthStore;
  clock: Clock;
  clientSecretKey: Buffer;
  /** Client ids that are URLs: resolved from their metadata document, never stored. */
  metadataDocument: (clientId: string) => Promise<AdapterPayload | undefined>;
  /** Whether the request being handled may store this model (admission.ts); false refuses the write. */
  mayStore?: (model: string) => boolean;
}

/** What one registered client may store: a registration is open to anyone, so its row is bounded. */
export const MCP_CLIENT_LIMITS = { nameChars: 200, redirectUris: 10, stringChars: 2048, arrayEntries: 20, payloadChars: 16 * 1024 };

/** Why a client's metadata is too big to store, naming the field; undefined when it fits. */
function clientMetadataProblem(payload: Record<string, unknown>): string | undefined {
  const L = MCP_CLIENT_LIMITS;
  for (const [key, value] of Object.entries(payload)) {
    if (key.startsWith('client_name') && typeof value === 'string' && value.length > L.nameChars) return `${key} is longer than ${L.nameChars} characters`;
    if (key === 'redirect_uris' && Array.isArray(value) && value.length > L.redirectUris) return `redirect_uris has more than ${L.redirectUris} entries`;
    const problem = sizeProblem(key, value);
    if (problem !== undefined) return problem;
  }
  if (JSON.stringify(payload).length > L.payloadChars) return `the client metadata is larger than ${L.payloadChars} characters`;
  return undefined;
}

function sizeProblem(key: string, value: unknown): string | undefined {
  const L = MCP_CLIENT_LIMITS;
  if (typeof value === 'string') return value.length > L.stringChars ? `${key} is longer than ${L.stringChars} characters` : undefined;
  if (Array.isArray(value)) {
    if (value.length > L.arrayEntries) return `${key} has more than ${L.arrayEntries} entries`;
    for (const item of value) {
      const problem = sizeProblem(key, item);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const problem = sizeProblem(key, item);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** Whether a token was issued to the client and agent of the grant it names. */
function sameGrantee(token: McpOauthRow, grant: { payload: string; accountId: string | null }): boolean {
  const clientOf = (payload: string): unknown => (JSON.parse(payload) as { clientId?: unknown }).clientId;
  try {
    // A Grant row written before 0022 has no account column; its payload names the agent.
    const grantAccount = grant.accountId ?? (JSON.parse(grant.payload) as { accountId?: unknown }).accountId;
    return token.accountId !== null && grantAccount === token.accountId && clientOf(grant.payload) === clientOf(token.payload);
  } catch {
    return false;
  }
}

/**
 * oidc-provider's storage verbs over the `mcp_oauth` table. The id (for
 * tokens and codes: the bearer secret itself) is stored only as its hash and
 * given back to oidc-provider from the lookup, as the `jti` it expects.
 */
export function storeAdapter(model: string, deps: AdapterDeps): Adapter {
  const { store, clock } = deps;
  const now = (): string => clock.now().toISOString();
  const restore = (id: string, payload: string, consumedAt: string | null): AdapterPayload => {
    const parsed = JSON.parse(payload) as AdapterPayload;
    if (model === 'Client') parsed.client_secret = clientSecretFor(deps.clientSecretKey, id);
    else parsed.jti = id;
    if (consumedAt !== null) parsed.consumed = Math.floor(Date.parse(consumedAt) / 1000);
    return parsed;
  };
  return {
    async upsert(id, payload, expiresIn) {
      // Thrown inside oidc-provider's request, so it answers 500 server_error and logs it: a bug, not a client's fault.
      if (deps.mayStore !== undefined && !deps.mayStore(model)) throw new Error(`an /mcp-oauth request that was not admitted tried to store a ${model}`);
      const { jti: _jti, client_secret: _secret, ...rest } = payload;
      if (model === 'Client') {
        // oidc-provider validated the metadata's form, not its size; it answers this as 400 invalid_client_metadata.
        const problem = clientMetadataProblem(rest);
        if (problem !== undefined) throw new (await loadOidcProvider()).errors.InvalidClientMetadata(problem);
      }
      await store.upsert({
        model,
        idHash: idHash(id),
        payload: JSON.stringify(rest),
        grantHash: typeof payload.grantId === 'string' ? idHash(payload.grantId) : null,
        uidHash: typeof payload.uid === 'string' ? idHash(payload.uid) : null,
        userCodeHash: typeof payload.userCode === 'string' ? idHash(payload.userCode) : null,
        expiresAt: expiresIn === undefined ? null : new Date(clock.now().getTime() + expiresIn * 1000).toISOString(),
        consumedAt: null,
        accountId: typeof payload.accountId === 'string' ? payload.accountId : null,
      });
    },
    async find(id) {
      if (model === 'AccessToken') {
        // An access token lives only while its grant does, for the same client and agent (as oidc-provider's
        // introspection checks): one written just after an operator's revocation deleted the grant's rows must
        // not outlive it. Read with the token, so /mcp's check on every call costs no second query.
        const found = await store.findWithGrant(model, idHash(id), now());
        if (found === undefined || found.grant === undefined || !sameGrantee(found.row, found.grant)) return undefined;
        return restore(id, found.row.payload, found.row.consumedAt);
      }
      const row = await store.find(model, idHash(id), now());
      if (row !== undefined) return restore(id, row.payload, row.consumedAt);
      return model === 'Client' ? deps.metadataDocument(id) : undefined;
    },
    async findByUid(uid) {
      const row = await store.findByUid(model, idHash(uid), now());
      // Only sessions are looked up by uid (logout); their id cannot be restored from a hash, and is not needed there.
      return row === undefined ? undefined : (JSON.parse(row.payload) as AdapterPayload);
    },
    async findByUserCode(userCode) {
      const row = await store.findByUserCode(model, idHash(userCode), now());
      return row === undefined ? undefined : (JSON.parse(row.payload) as AdapterPayload);
    },
    async consume(id) {
      // oidc-provider checked `consumed` on an earlier read; two concurrent redemptions of one code or refresh
      // token both pass that check, so the conditional update decides: the loser is refused and the grant ended,
      // as a reused rotated refresh token would be.
      if (!(await store.consume(model, idHash(id), now()))) {
        const row = await store.find(model, idHash(id), now());
        const grantId = row === undefined ? undefined : (JSON.parse(row.payload) as { grantId?: unknown }).grantId;
        if (typeof grantId === 'string') await store.endGrant(idHash(grantId));
        throw new (await loadOidcProvider()).errors.InvalidGrant('grant request is invalid');
      }
    },
    async destroy(id) {
      await store.destroy(model, idHash(id));
    },
    async revokeByGrantId(grantId) {
      await store.revokeByGrant(idHash(grantId));
    },
  };
}
