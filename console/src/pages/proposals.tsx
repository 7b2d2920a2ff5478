import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { PolicyRuleView, ProposalStatus, ProposalView } from '../../../src/sdk/index.js';
import { WHOLE, client, listAll } from '../api.js';
import { useCan } from '../session.js';
import { DataTable, Dialog, ErrorText, Field, PageHeader, Status, useAction, useLoad, when } from '../ui.js';

/** The rule an approval adds without narrowing: what was asked, as a policy rule the operator can cut down. */
function ruleOf(request: ProposalView['request']): Partial<PolicyRuleView> {
  const rule: Partial<PolicyRuleView> = {};
  if (request.connection !== undefined) rule.connections = [request.connection];
  if (request.methods !== undefined) rule.methods = request.methods;
  if (request.paths !== undefined) rule.paths = request.paths;
  if (request.capabilities !== undefined) rule.capabilities = request.capabilities;
  return rule;
}

function Decide({ proposal, onClose }: { proposal: ProposalView; onClose: (changed: boolean) => void }): JSX.Element {
  const [rule, setRule] = useState(JSON.stringify(ruleOf(proposal.request), null, 2));
  const [narrow, setNarrow] = useState(false);
  const [reason, setReason] = useState('');
  const action = useAction();
  let parsed: Partial<PolicyRuleView> | undefined;
  let problem: string | undefined;
  if (narrow) {
    try {
      parsed = JSON.parse(rule) as Partial<PolicyRuleView>;
    } catch (err) {
      problem = `not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return (
    <Dialog title={`Proposal from ${proposal.agent.name}`} onClose={() => onClose(false)}>
      <p>
        Reason given: <q>{proposal.reason}</q>
      </p>
      <p>Asked for:</p>
      <pre>{JSON.stringify(proposal.request, null, 2)}</pre>
      <label class="inline">
        <input type="checkbox" id="narrow" checked={narrow} onChange={(e) => setNarrow(e.currentTarget.checked)} /> Approve a narrower rule
      </label>
      {narrow ? (
        <Field id="narrow-rule" label="Rule to add (must be within the request)">
          <textarea id="narrow-rule" rows={8} spellcheck={false} value={rule} onInput={(e) => setRule(e.currentTarget.value)} aria-invalid={problem !== undefined} />
        </Field>
      ) : null}
      <ErrorText error={problem} />
      <p class="actions">
        <button
          type="button"
          id="approve"
          disabled={action.busy || problem !== undefined}
          onClick={() =>
            void action.run(async () => {
              await client.proposals.approve(proposal.id, narrow && parsed !== undefined ? { rule: parsed } : {});
              onClose(true);
            })
          }
        >
          Approve
        </button>
      </p>
      <Field id="deny-reason" label="Reason for denying (optional)">
        <input id="deny-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </Field>
      <p>
        <button
          type="button"
          id="deny"
          class="danger"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              await client.proposals.deny(proposal.id, reason === '' ? {} : { reason });
              onClose(true);
            })
          }
        >
          Deny
        </button>
      </p>
      <ErrorText error={action.error} />
    </Dialog>
  );
}

export function Proposals(): JSX.Element {
  const [status, setStatus] = useState<ProposalStatus | ''>('pending');
  const proposals = useLoad(() => listAll(client.proposals.iterate(status === '' ? {} : { status }, WHOLE)), [status]);
  const canOperate = useCan('operator');
  const [deciding, setDeciding] = useState<ProposalView | undefined>(undefined);
  return (
    <section>
      <PageHeader title="Access proposals" />
      <form class="filters" role="search" aria-label="Filter proposals" onSubmit={(e) => e.preventDefault()}>
        <Field id="pr-status" label="Status">
          <select id="pr-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as ProposalStatus | '')}>
            <option value="pending">pending</option>
            <option value="approved">approved</option>
            <option value="denied">denied</option>
            <option value="">all</option>
          </select>
        </Field>
      </form>
      <ErrorText error={proposals.error} />
      <DataTable
        id="proposals"
        columns={['Agent', 'Asked for', 'Reason', 'Status', 'Created', canOperate && 'Actions']}
        rows={proposals.data}
        empty="No proposals."
        row={(p) => (
          <tr key={p.id} data-proposal={p.id}>
            <td>{p.agent.name}</td>
            <td>
              <code>{JSON.stringify(p.request)}</code>
            </td>
            <td>{p.reason}</td>
            <td>
              <Status value={p.status} />
            </td>
            <td>{when(p.createdAt)}</td>
            {canOperate ? (
              <td>
                {p.status === 'pending' ? (
                  <button type="button" onClick={() => setDeciding(p)}>
                    Decide…
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
      />
      {deciding === undefined ? null : (
        <Decide
          proposal={deciding}
          onClose={(changed) => {
            setDeciding(undefined);
            if (changed) proposals.reload();
          }}
        />
      )}
    </section>
  );
}
