import { createHash, createHmac } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../../clock.js';
import type { McpOauthStore } from '../../store/index.js';
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
      const { jti: _jti, client_secret: _secret, ...rest } = payload;
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
