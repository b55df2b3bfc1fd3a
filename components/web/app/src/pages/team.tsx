import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { can, ROLES, useApp } from '../state';
import { Alert, described, Field, Loading } from '../ui';

export function TeamPage() {
  const state = useApp();
  const ws = state.workspace;
  const admin = can(state, 'admin');
  const owner = can(state, 'owner');
  const me = api.currentUser();
  const [members, setMembers] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('editor');
  const [addErrors, setAddErrors] = useState<Record<string, string>>({});
  const [addError, setAddError] = useState('');
  const [name, setName] = useState(ws?.name ?? '');
  const [newName, setNewName] = useState('');
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (!ws) return;
    api
      .api('GET', `/api/workspaces/${ws.id}/members`)
      .then((d) => setMembers(d.items ?? d))
      .catch((e) => setError(e.message));
  }, [ws?.id, version]);

  if (!ws) return <Alert>No workspace.</Alert>;

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      state.notify(done);
      setVersion((v) => v + 1);
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'That did not work', 'error');
      setVersion((v) => v + 1);
    }
  };

  return (
    <section>
      <h1>Team</h1>
      <p>
        Roles: <strong>viewer</strong> reads; <strong>editor</strong> composes and schedules; <strong>admin</strong> also manages accounts and members; <strong>owner</strong> also manages the workspace.
      </p>
      <section class="panel" aria-labelledby="members-title">
        <h2 id="members-title">Members of {ws.name}</h2>
        {error && <Alert>{error}</Alert>}
        {!members ? (
          <Loading what="members" />
        ) : (
          <div class="table-scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.map((m) => (
                  <tr key={m.userId}>
                    <td>{m.name}</td>
                    <td>{m.email}</td>
                    <td>
                      {admin && m.userId !== me?.id ? (
                        <>
                          <label class="visually-hidden" for={`role-${m.userId}`}>
                            Role of {m.name}
                          </label>
                          <select
                            id={`role-${m.userId}`}
                            value={m.role}
                            onChange={(e) => act(() => api.api('PATCH', `/api/workspaces/${ws.id}/members/${m.userId}`, { role: e.currentTarget.value }), `${m.name} is now ${e.currentTarget.value}`)}
                          >
                            {ROLES.filter((r) => owner || r !== 'owner' || m.role === 'owner').map((r) => (
                              <option key={r} value={r}>
                                {r}
                              </option>
                            ))}
                          </select>
                        </>
                      ) : (
                        m.role
                      )}
                    </td>
                    <td>
                      {(admin || m.userId === me?.id) && (
                        <button
                          type="button"
                          class="danger small"
                          onClick={() => confirm(m.userId === me?.id ? 'Leave this workspace?' : `Remove ${m.name}?`) && act(() => api.api('DELETE', `/api/workspaces/${ws.id}/members/${m.userId}`), m.userId === me?.id ? 'You left the workspace' : `${m.name} removed`)}
                        >
                          {m.userId === me?.id ? 'Leave' : `Remove ${m.name}`}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {admin && (
          <form
            class="row wrap"
            onSubmit={async (e) => {
              e.preventDefault();
              setAddErrors({});
              setAddError('');
              try {
                await api.api('POST', `/api/workspaces/${ws.id}/members`, { email: email.trim(), role });
                state.notify(`${email} added as ${role}`);
                setEmail('');
                setVersion((v) => v + 1);
              } catch (err) {
                if (err instanceof api.ApiError) {
                  setAddErrors(err.fields());
                  setAddError(err.type === 'NOT_FOUND' ? 'No user has that email. They need to create an account first.' : err.message);
                }
              }
            }}
          >
            <Field id="member-email" label="Add a member by email" error={addErrors.email ?? (addError || undefined)}>
              <input {...described('member-email', addErrors.email ?? (addError || undefined))} type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            </Field>
            <Field id="member-role" label="Role" error={addErrors.role}>
              <select {...described('member-role', addErrors.role)} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
                {ROLES.filter((r) => owner || r !== 'owner').map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </Field>
            <button type="submit">Add member</button>
          </form>
        )}
      </section>
      {owner && (
        <section class="panel" aria-labelledby="ws-title">
          <h2 id="ws-title">Workspace</h2>
          <form
            class="row wrap"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                await api.api('PATCH', `/api/workspaces/${ws.id}`, { name: name.trim() });
                await state.reloadWorkspaces();
              }, 'Workspace renamed');
            }}
          >
            <Field id="ws-name" label="Workspace name">
              <input id="ws-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            <button type="submit">Rename</button>
          </form>
        </section>
      )}
      <section class="panel" aria-labelledby="new-ws-title">
        <h2 id="new-ws-title">New workspace</h2>
        <form
          class="row wrap"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              const created = await api.api('POST', '/api/workspaces', { name: newName.trim() });
              setNewName('');
              await state.reloadWorkspaces();
              state.switchWorkspace(created.id);
              state.notify(`Workspace ${created.name} created`);
            } catch (err) {
              state.notify(err instanceof Error ? err.message : 'Could not create', 'error');
            }
          }}
        >
          <Field id="new-ws-name" label="Name">
            <input id="new-ws-name" required value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
          </Field>
          <button type="submit">Create workspace</button>
        </form>
      </section>
    </section>
  );
}
