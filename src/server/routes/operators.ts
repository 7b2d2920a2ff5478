import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  createOperatorBody,
  createOperatorKeyBody,
  deletedResponse,
  operatorKeyCreated,
  operatorKeyList,
  operatorKeyParams,
  operatorList,
  operatorNameParams,
  operatorView,
  signInLinkView,
  updateOperatorBody,
} from '../../api/index.js';
import { Forbidden } from '../../errors.js';
import type { Latchkey } from '../../latchkey.js';
import { isRole, lowerRole, roleAtLeast, type Operator, type Role } from '../../operators/index.js';
import { principalOf, roleOfPrincipal } from '../auth.js';
import { noStore } from '../no-store.js';

type NameParams = { name: string };

/** An operator (role operator or admin) manages their own API keys; anyone else's need the admin role. */
async function keyOwnerOrAdmin(core: Latchkey, request: FastifyRequest<{ Params: NameParams }>): Promise<Operator> {
  const operator = await core.operators.get(request.params.name);
  const principal = principalOf(request);
  if (roleOfPrincipal(principal) === 'admin' || (principal.kind === 'operator' && principal.id === operator.id)) return operator;
  throw new Forbidden('only an admin manages the keys of another operator');
}

/** The sign-in page of the console; the token travels in the fragment, which no server log or Referer sees. */
function signInUrl(core: Latchkey, token: string): string {
  return `${core.config.publicUrl}/console/sign-in#token=${token}`;
}

/** Admin routes for operators, their sign-in links and API keys (CONTRACTS.md, "Principals and roles"). */
export async function operatorRoutes(app: FastifyInstance, core: Latchkey): Promise<void> {
  app.post<{ Body: { name: string; role: string; password?: string } }>(
    '/v1/operators',
    { config: { role: 'admin' }, schema: { body: createOperatorBody, response: { 201: operatorView } } },
    async (request, reply) => {
      const operator = await core.operators.create(request.body);
      await core.audit.admin('operator.create', { detail: { operator: operator.name, operatorId: operator.id, role: operator.role, password: operator.hasPassword } });
      return reply.code(201).send(operator);
    },
  );

  app.get('/v1/operators', { config: { role: 'viewer' }, schema: { response: { 200: operatorList } } }, async () => core.operators.list());

  app.get<{ Params: NameParams }>(
    '/v1/operators/:name',
    { config: { role: 'viewer' }, schema: { params: operatorNameParams, response: { 200: operatorView } } },
    async (request) => core.operators.get(request.params.name),
  );

  app.patch<{ Params: NameParams; Body: { role?: string; password?: string } }>(
    '/v1/operators/:name',
    { config: { role: 'admin' }, schema: { params: operatorNameParams, body: updateOperatorBody, response: { 200: operatorView } } },
    async (request) => {
      const { operator, previousRole, sessionsEnded } = await core.operators.update(request.params.name, request.body);
      await core.audit.admin('operator.update', {
        detail: {
          operator: operator.name,
          operatorId: operator.id,
          ...(request.body.role === undefined ? {} : { role: operator.role, previousRole }),
          passwordChanged: request.body.password !== undefined,
          sessionsEnded,
        },
      });
      return operator;
    },
  );

  app.delete<{ Params: NameParams }>(
    '/v1/operators/:name',
    { config: { role: 'admin' }, schema: { params: operatorNameParams, response: { 200: deletedResponse } } },
    async (request) => {
      const operator = await core.operators.remove(request.params.name);
      await core.audit.admin('operator.delete', { detail: { operator: operator.name, operatorId: operator.id } });
      return { deleted: true };
    },
  );

  app.post<{ Params: NameParams }>(
    '/v1/operators/:name/sign-in-links',
    { config: { role: 'admin' }, schema: { params: operatorNameParams, response: { 201: signInLinkView } } },
    async (request, reply) => {
      const { operator, token, expiresAt } = await core.operators.createSignInLink(request.params.name);
      await core.audit.admin('operator.sign_in_link', { detail: { operator: operator.name, operatorId: operator.id, expiresAt } });
      // The URL is a credential until used: shown here once, never logged or audited.
      return noStore(reply).code(201).send({ url: signInUrl(core, token), expiresAt });
    },
  );

  app.post<{ Params: NameParams; Body: { role?: string } | undefined }>(
    '/v1/operators/:name/keys',
    { config: { role: 'operator' }, schema: { params: operatorNameParams, body: createOperatorKeyBody, response: { 201: operatorKeyCreated } } },
    async (request, reply) => {
      const owner = await keyOwnerOrAdmin(core, request);
      // A key never outranks the credential that made it: an admin's operator-role key cannot mint an admin key.
      const cap = roleOfPrincipal(principalOf(request));
      const requested = request.body?.role;
      if (requested !== undefined && isRole(requested) && !roleAtLeast(cap, requested)) {
        throw new Forbidden(`this credential has the role ${cap}; it cannot make a key with the role ${requested}`);
      }
      const { operator, key } = await core.operators.createKey(owner.id, requested ?? lowerRole(owner.role as Role, cap));
      await core.audit.admin('operator.key_create', { detail: { operator: operator.name, operatorId: operator.id, keyId: key.id, role: key.role } });
      return noStore(reply).code(201).send({ ...key, operator: operator.name });
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/operators/:name/keys',
    { config: { role: 'viewer' }, schema: { params: operatorNameParams, response: { 200: operatorKeyList } } },
    async (request) => (await core.operators.listKeys(request.params.name)).keys,
  );

  app.delete<{ Params: NameParams & { keyId: string } }>(
    '/v1/operators/:name/keys/:keyId',
    { config: { role: 'operator' }, schema: { params: operatorKeyParams, response: { 200: deletedResponse } } },
    async (request) => {
      const owner = await keyOwnerOrAdmin(core, request);
      // Nor can a narrower credential remove its owner's wider keys.
      const cap = roleOfPrincipal(principalOf(request));
      const target = (await core.operators.listKeys(owner.id)).keys.find((k) => k.id === request.params.keyId);
      if (target !== undefined && isRole(target.role) && !roleAtLeast(cap, target.role)) {
        throw new Forbidden(`this credential has the role ${cap}; it cannot remove a key with the role ${target.role}`);
      }
      const operator = await core.operators.removeKey(owner.id, request.params.keyId);
      await core.audit.admin('operator.key_delete', { detail: { operator: operator.name, operatorId: operator.id, keyId: request.params.keyId } });
      return { deleted: true };
    },
  );
}
