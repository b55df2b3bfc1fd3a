import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { can, useApp } from '../state';
import { browserZone, fromLocal, parseDateKey } from '../tz';
import { Alert, Empty, Field, formatInstant, Loading } from '../ui';

export function AuditPage() {
  const state = useApp();
  const zone = browserZone();
  const [filters, setFilters] = useState({ action: '', targetType: '', actor: '', from: '', to: '' });
  const [applied, setApplied] = useState(filters);
  const [items, setItems] = useState<any[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');

  const query = (c: string | null) => {
    const q = new URLSearchParams();
    if (applied.action) q.set('action', applied.action);
    if (applied.targetType) q.set('targetType', applied.targetType);
    if (applied.actor) q.set('actor', applied.actor);
    const day = (key: string, next: number) => {
      const d = parseDateKey(key);
      return d ? new Date(fromLocal({ ...d, day: d.day + next }, 0, 0, zone)).toISOString() : '';
    };
    if (applied.from) q.set('from', day(applied.from, 0));
    if (applied.to) q.set('to', day(applied.to, 1));
    q.set('limit', '50');
    if (c) q.set('cursor', c);
    return `/api/audit?${q}`;
  };

  useEffect(() => {
    if (!can(state, 'admin')) return;
    setItems(null);
    setError('');
    api
      .api('GET', query(null))
      .then((p) => {
        setItems(p.items);
        setCursor(p.nextCursor);
      })
      .catch((e) => setError(e.message));
  }, [applied, state.workspace?.id]);

  if (!can(state, 'admin')) return <Alert kind="info">The audit log is for admins and owners of this workspace.</Alert>;

  const input = (key: keyof typeof filters, label: string, type: 'text' | 'date' = 'text') => (
    <Field id={`audit-${key}`} label={label}>
      <input id={`audit-${key}`} type={type as any} value={filters[key]} onInput={(e) => setFilters({ ...filters, [key]: e.currentTarget.value })} />
    </Field>
  );

  return (
    <section>
      <h1>Audit log</h1>
      <form
        class="row wrap filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filters);
        }}
      >
        {input('action', 'Action (e.g. post.created)')}
        {input('targetType', 'Target type (post, account, member…)')}
        {input('actor', 'Actor user id')}
        {input('from', 'From', 'date')}
        {input('to', 'To', 'date')}
        <button type="submit">Filter</button>
      </form>
      {error && <Alert>{error}</Alert>}
      {!items ? (
        <Loading what="the audit log" />
      ) : items.length === 0 ? (
        <Empty>Nothing matches these filters.</Empty>
      ) : (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table class="list">
            <thead>
              <tr>
                <th scope="col">When ({zone})</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Actor</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>{formatInstant(r.createdAt, zone)}</td>
                  <td>{r.action}</td>
                  <td>
                    {r.targetType ?? ''} {r.targetId ? <code>{String(r.targetId).slice(0, 8)}</code> : ''}
                  </td>
                  <td>{r.actorId ? <code>{String(r.actorId).slice(0, 8)}</code> : 'system'}</td>
                  <td>
                    <code class="details">{JSON.stringify(r.details ?? {})}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            const p = await api.api('GET', query(cursor));
            setItems((xs) => [...(xs ?? []), ...p.items]);
            setCursor(p.nextCursor);
          }}
        >
          Load more
        </button>
      )}
    </section>
  );
}
