import type { Clock } from '../clock.js';
import { Conflict, InvalidRequest, NotFound } from '../errors.js';
import { newId } from '../ids.js';
import { isUniqueViolation, type OperatorRow, type Store } from '../store/index.js';
import { hashPassword, spendPasswordTime, verifyPassword, weakPassword } from './password.js';
import { isRole, lowerRole, roleAtLeast, roleOf, type Role } from './roles.js';
import { OPERATOR_KEY_PATTERN, TOKEN_PATTERN, csrfTokenOf, newOperatorKey, randomToken, sha256 } from './secrets.js';

export interface Operator {
  id: string;
  name: string;
  role: Role;
  /** Whether a password is set (else the operator signs in with a sign-in link). */
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface OperatorKeyView {
  id: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A live console session, as each request resumes it. */
export interface OperatorSession {
  operator: Operator;
  csrfToken: string;
  /** absolute end */
  expiresAt: string;
  /** when it ends if no request comes before */
  idleExpiresAt: string;
}

export interface OperatorSettings {
  /** A session ends after this long without a request (LATCHKEY_SESSION_IDLE_TIMEOUT). */
  idleTimeoutSeconds: number;
  /** ... and this long after sign-in in any case (LATCHKEY_SESSION_MAX_AGE). */
  maxAgeSeconds: number;
  signInLinkTtlSeconds: number;
  /** Derives each session's CSRF token. */
  csrfKey: Buffer;
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

function view(row: OperatorRow): Operator {
  return { id: row.id, name: row.name, role: roleOf(row.role), hasPassword: row.passwordHash !== null, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

function checkRole(role: unknown): Role {
  if (!isRole(role)) throw new InvalidRequest('role must be one of admin, operator, viewer');
  return role;
}

async function passwordHashOf(password: string | undefined): Promise<string | null> {
  if (password === undefined) return null;
  const weak = weakPassword(password);
  if (weak !== undefined) throw new InvalidRequest(weak);
  return hashPassword(password);
}

/** Operators, their passwords, sessions, sign-in links and API keys (issue 12). */
export function operatorRegistry(deps: { store: Store; clock: Clock; settings: OperatorSettings }) {
  const { store, clock, settings } = deps;
  const iso = (ms: number): string => new Date(ms).toISOString();
  // A session's last-seen time is written at most this often, so a busy console is not a write per request.
  const touchEveryMs = Math.min(60_000, (settings.idleTimeoutSeconds * 1000) / 10);

  async function row(nameOrId: string): Promise<OperatorRow> {
    const found = nameOrId.startsWith('op_') ? await store.operators.findById(nameOrId) : await store.operators.findByName(nameOrId);
    if (found === undefined) throw new NotFound(`operator "${nameOrId}" does not exist`);
    return found;
  }

  async function create(input: { name: string; role: string; password?: string }): Promise<Operator> {
    if (!NAME_PATTERN.test(input.name)) throw new InvalidRequest('operator name must be letters, digits, ".", "_" or "-" (at most 63 characters)');
    if (input.name.startsWith('op_')) throw new InvalidRequest('operator names may not start with "op_" (reserved for ids)');
    const role = checkRole(input.role);
    const now = clock.now().toISOString();
    const created: OperatorRow = { id: newId('op'), name: input.name, role, passwordHash: await passwordHashOf(input.password), createdAt: now, updatedAt: now };
    try {
      await store.operators.insert(created);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`operator "${input.name}" already exists`);
      throw err;
    }
    return view(created);
  }

  async function update(nameOrId: string, patch: { role?: string; password?: string }): Promise<{ operator: Operator; previousRole: Role; sessionsEnded: number }> {
    const current = await row(nameOrId);
    const role = patch.role === undefined ? undefined : checkRole(patch.role);
    const passwordHash = patch.password === undefined ? undefined : await passwordHashOf(patch.password);
    const updatedAt = clock.now().toISOString();
    await store.operators.update(current.id, { ...(role === undefined ? {} : { role }), ...(passwordHash === undefined ? {} : { passwordHash }), updatedAt });
    // A new password ends every session: whoever knew the old one is signed out.
    const sessionsEnded = passwordHash === undefined ? 0 : await store.operatorSessions.removeForOperator(current.id);
    // So are the sign-in links made before it (whoever knew the old password may have asked for one).
    if (passwordHash !== undefined) await store.operatorSignInLinks.removeUnusedForOperator(current.id);
    return {
      operator: view({ ...current, ...(role === undefined ? {} : { role }), ...(passwordHash === undefined ? {} : { passwordHash }), updatedAt }),
      previousRole: roleOf(current.role),
      sessionsEnded,
    };
  }

  async function remove(nameOrId: string): Promise<Operator> {
    const current = await row(nameOrId);
    if (!(await store.operators.remove(current.id))) throw new NotFound(`operator "${nameOrId}" does not exist`);
    return view(current);
  }

  /** The operator whose password this is, or undefined; as slow for an unknown name as for a wrong password. */
  async function checkPassword(name: string, password: string): Promise<Operator | undefined> {
    const found = NAME_PATTERN.test(name) ? await store.operators.findByName(name) : undefined;
    if (found?.passwordHash === undefined || found.passwordHash === null) {
      await spendPasswordTime(password);
      return undefined;
    }
    return (await verifyPassword(password, found.passwordHash)) ? view(found) : undefined;
  }

  async function createSignInLink(nameOrId: string): Promise<{ operator: Operator; token: string; expiresAt: string }> {
    const operator = view(await row(nameOrId));
    const token = randomToken();
    const now = clock.now().getTime();
    const expiresAt = iso(now + settings.signInLinkTtlSeconds * 1000);
    await store.operatorSignInLinks.insert({ tokenHash: sha256(token), operatorId: operator.id, createdAt: iso(now), expiresAt, usedAt: null });
    return { operator, token, expiresAt };
  }

  /** The link's operator, once; undefined for an unknown, used or expired token. */
  async function consumeSignInLink(token: string): Promise<Operator | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const operatorId = await store.operatorSignInLinks.consume(sha256(token), clock.now().toISOString());
    const found = operatorId === undefined ? undefined : await store.operators.findById(operatorId);
    return found === undefined ? undefined : view(found);
  }

  async function startSession(operator: Operator): Promise<{ sessionId: string } & OperatorSession> {
    const sessionId = randomToken();
    const now = clock.now().getTime();
    const expiresAt = iso(now + settings.maxAgeSeconds * 1000);
    await store.operatorSessions.insert({ idHash: sha256(sessionId), operatorId: operator.id, createdAt: iso(now), lastSeenAt: iso(now), expiresAt });
    // Now is a good moment to forget what has ended; nothing else needs a timer.
    await store.operatorSessions.pruneExpired(iso(now), iso(now - settings.idleTimeoutSeconds * 1000));
    await store.operatorSignInLinks.pruneExpired(iso(now));
    return { sessionId, operator, csrfToken: csrfTokenOf(settings.csrfKey, sessionId), expiresAt, idleExpiresAt: iso(Math.min(now + settings.idleTimeoutSeconds * 1000, Date.parse(expiresAt))) };
  }

  /** The session behind a cookie value, or undefined when it is unknown, idle too long or past its end. */
  async function resumeSession(sessionId: string): Promise<OperatorSession | undefined> {
    if (!TOKEN_PATTERN.test(sessionId)) return undefined;
    const idHash = sha256(sessionId);
    const found = await store.operatorSessions.find(idHash);
    if (found === undefined) return undefined;
    const { session } = found;
    const now = clock.now().getTime();
    const lastSeen = Date.parse(session.lastSeenAt);
    if (now >= Date.parse(session.expiresAt) || now >= lastSeen + settings.idleTimeoutSeconds * 1000) {
      await store.operatorSessions.remove(idHash);
      return undefined;
    }
    let seen = lastSeen;
    if (now - lastSeen >= touchEveryMs) {
      await store.operatorSessions.touch(idHash, iso(now));
      seen = now;
    }
    return {
      operator: view(found.operator),
      csrfToken: csrfTokenOf(settings.csrfKey, sessionId),
      expiresAt: session.expiresAt,
      idleExpiresAt: iso(Math.min(seen + settings.idleTimeoutSeconds * 1000, Date.parse(session.expiresAt))),
    };
  }

  async function endSession(sessionId: string): Promise<boolean> {
    return TOKEN_PATTERN.test(sessionId) && store.operatorSessions.remove(sha256(sessionId));
  }

  /** A new `lko_` key, shown only here; its role is at most the operator's (default: the operator's). */
  async function createKey(nameOrId: string, requested?: string): Promise<{ operator: Operator; key: OperatorKeyView & { apiKey: string } }> {
    const operator = view(await row(nameOrId));
    const role = requested === undefined ? operator.role : checkRole(requested);
    if (!roleAtLeast(operator.role, role)) throw new InvalidRequest(`a key of operator "${operator.name}" can have at most the role ${operator.role}`);
    const apiKey = newOperatorKey();
    const key = { id: newId('opk'), operatorId: operator.id, keyHash: sha256(apiKey), role, createdAt: clock.now().toISOString(), lastUsedAt: null };
    await store.operatorKeys.insert(key);
    return { operator, key: { id: key.id, role, createdAt: key.createdAt, lastUsedAt: null, apiKey } };
  }

  async function listKeys(nameOrId: string): Promise<{ operator: Operator; keys: OperatorKeyView[] }> {
    const operator = view(await row(nameOrId));
    const keys = await store.operatorKeys.listForOperator(operator.id);
    return { operator, keys: keys.map((k) => ({ id: k.id, role: roleOf(k.role), createdAt: k.createdAt, lastUsedAt: k.lastUsedAt })) };
  }

  async function removeKey(nameOrId: string, keyId: string): Promise<Operator> {
    const operator = view(await row(nameOrId));
    if (!(await store.operatorKeys.remove(operator.id, keyId))) throw new NotFound(`operator "${operator.name}" has no key "${keyId}"`);
    return operator;
  }

  /** The operator and effective role of an `lko_` key, or undefined. Read from the database each time, so a removed key stops at once on every replica. */
  async function authenticateKey(apiKey: string): Promise<{ operator: Operator; keyId: string; role: Role } | undefined> {
    if (!OPERATOR_KEY_PATTERN.test(apiKey)) return undefined;
    const found = await store.operatorKeys.findByHash(sha256(apiKey));
    if (found === undefined) return undefined;
    const now = clock.now();
    if (found.key.lastUsedAt === null || now.getTime() - Date.parse(found.key.lastUsedAt) >= 60_000) {
      await store.operatorKeys.touch(found.key.id, now.toISOString());
    }
    const operator = view(found.operator);
    return { operator, keyId: found.key.id, role: lowerRole(operator.role, roleOf(found.key.role)) };
  }

  return {
    create,
    list: async (): Promise<Operator[]> => (await store.operators.list()).map(view),
    get: async (nameOrId: string): Promise<Operator> => view(await row(nameOrId)),
    update,
    remove,
    checkPassword,
    createSignInLink,
    consumeSignInLink,
    startSession,
    resumeSession,
    endSession,
    createKey,
    listKeys,
    removeKey,
    authenticateKey,
    settings,
  };
}

export type OperatorRegistry = ReturnType<typeof operatorRegistry>;
