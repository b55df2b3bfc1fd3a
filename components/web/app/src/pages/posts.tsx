import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { navigate, useLocation } from '../router';
import { can, useApp } from '../state';
import { browserZone } from '../tz';
import { Alert, described, Empty, Field, formatInstant, Loading, StatusBadge } from '../ui';

const STATUSES = ['draft', 'scheduled', 'publishing', 'published', 'failed', 'cancelled'];

export function PostsPage() {
  const state = useApp();
  const loc = useLocation();
  const editor = can(state, 'editor');
  const status = loc.query.get('status') ?? '';
  const accountId = loc.query.get('accountId') ?? '';
  const zone = browserZone();
  const [items, setItems] = useState<any[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);

  const query = (c: string | null) => {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    if (accountId) q.set('accountId', accountId);
    q.set('limit', '50');
    if (c) q.set('cursor', c);
    return `/api/tweets?${q}`;
  };

  useEffect(() => {
    setItems(null);
    setError('');
    api
      .api('GET', query(null))
      .then((page) => {
        setItems(page.items);
        setCursor(page.nextCursor);
      })
      .catch((e) => setError(e.message));
  }, [status, accountId, version, state.workspace?.id]);

  const filter = (k: string, v: string) => {
    const q = new URLSearchParams(location.search);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/posts?${q}`, true);
  };

  async function remove(p: any) {
    const published = p.status === 'published';
    const question = published ? 'Delete this post on X? This cannot be undone.' : 'Cancel this post? It will not be published.';
    if (!confirm(question)) return;
    try {
      await api.api('DELETE', `/api/tweets/${p.id}`);
      state.notify(published ? 'Deleted on X' : 'Cancelled');
      setVersion((v) => v + 1);
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'Could not delete', 'error');
    }
  }

  return (
    <section>
      <div class="page-head">
        <h1>Posts</h1>
        {editor && (
          <a class="button" href="/compose">
            New post
          </a>
        )}
      </div>
      <div class="toolbar" role="group" aria-label="Filters">
        <label for="filter-status">Status</label>
        <select id="filter-status" value={status} onChange={(e) => filter('status', e.currentTarget.value)}>
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label for="filter-account">Account</label>
        <select id="filter-account" value={accountId} onChange={(e) => filter('accountId', e.currentTarget.value)}>
          <option value="">All accounts</option>
          {state.accounts.map((a) => (
            <option key={a.id} value={a.id}>
              @{a.username}
            </option>
          ))}
        </select>
      </div>
      {error && <Alert>{error}</Alert>}
      {!items ? (
        <Loading what="posts" />
      ) : items.length === 0 ? (
        <Empty>No posts{status ? ` with status ${status}` : ''} yet.</Empty>
      ) : (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table class="list">
            <thead>
              <tr>
                <th scope="col">When ({zone})</th>
                <th scope="col">Account</th>
                <th scope="col">Post</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} class={p.status === 'failed' ? 'row-failed' : ''}>
                  <td>{formatInstant(p.publishedAt ?? p.scheduledAt, zone)}</td>
                  <td>@{p.account?.username ?? '—'}</td>
                  <td class="post-text">
                    <a href={`/posts/${p.id}`}>{p.content}</a>
                    {p.status === 'failed' && p.lastError && <p class="reason">X said: {p.lastError}</p>}
                  </td>
                  <td>
                    <StatusBadge status={p.status} />
                  </td>
                  <td class="actions-cell">
                    {editor && (p.status === 'draft' || p.status === 'scheduled') && (
                      <a class="button secondary small" href={`/compose?edit=${p.id}`}>
                        Edit
                      </a>
                    )}
                    {editor && ['draft', 'scheduled', 'failed', 'published'].includes(p.status) && (
                      <button type="button" class="danger small" onClick={() => remove(p)}>
                        {p.status === 'published' ? 'Delete on X' : 'Cancel'}
                      </button>
                    )}
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
            const page = await api.api('GET', query(cursor));
            setItems((xs) => [...(xs ?? []), ...page.items]);
            setCursor(page.nextCursor);
          }}
        >
          Load more
        </button>
      )}
      {editor && <ImportPanel onDone={() => setVersion((v) => v + 1)} />}
    </section>
  );
}

const CSV_EXAMPLE = 'content,accountId,scheduledAt\n"Hello from the import",<account id>,2030-01-01T09:00:00Z';

function ImportPanel({ onDone }: { onDone: () => void }) {
  const state = useApp();
  const [csv, setCsv] = useState('');
  const [rowErrors, setRowErrors] = useState<any[]>([]);
  const [error, setError] = useState('');
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(ev: Event) {
    ev.preventDefault();
    setRowErrors([]);
    setError('');
    setResult('');
    setBusy(true);
    try {
      const data = await api.api('POST', '/api/tweets/bulk', csv);
      setResult(`Imported ${data.created} ${data.created === 1 ? 'post' : 'posts'}.`);
      setCsv('');
      onDone();
    } catch (e) {
      if (e instanceof api.ApiError) {
        setError(e.message);
        setRowErrors(Array.isArray(e.details?.errors) ? e.details.errors : []);
      } else setError('Something went wrong.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import from CSV</h2>
      <p>
        Columns <code>content,accountId,scheduledAt</code>. A row without a time goes to the account's queue. All rows are imported or none.
        {state.accounts[0] && (
          <>
            {' '}
            Account ids: {state.accounts.map((a) => `@${a.username} = ${a.id}`).join(', ')}.
          </>
        )}
      </p>
      <form onSubmit={submit}>
        <Field id="import-file" label="CSV file">
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv"
            onChange={async (e) => {
              const f = e.currentTarget.files?.[0];
              if (f) setCsv(await f.text());
            }}
          />
        </Field>
        <Field id="import-csv" label="Or paste the CSV" error={error && rowErrors.length === 0 ? error : undefined}>
          <textarea {...described('import-csv', error && rowErrors.length === 0 ? error : undefined)} rows={5} placeholder={CSV_EXAMPLE} value={csv} onInput={(e) => setCsv(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={busy || !csv.trim()}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </form>
      {result && <Alert kind="ok">{result}</Alert>}
      {rowErrors.length > 0 && (
        <div role="alert">
          <p class="field-error">{error}</p>
          <table class="list row-errors">
            <caption>Problems by row</caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Field</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {rowErrors.map((r, i) => (
                <tr key={i}>
                  <td>{r.row}</td>
                  <td>{r.field ?? '—'}</td>
                  <td>{r.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function PostDetailPage({ id }: { id: string }) {
  const state = useApp();
  const editor = can(state, 'editor');
  const zone = browserZone();
  const [post, setPost] = useState<any | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api
      .api('GET', `/api/tweets/${id}`)
      .then(setPost)
      .catch((e) => setError(e.message));
  }, [id]);
  if (error) return <Alert>{error}</Alert>;
  if (!post) return <Loading what="the post" />;
  return (
    <section>
      <div class="page-head">
        <h1>Post</h1>
        {editor && (post.status === 'draft' || post.status === 'scheduled') && (
          <a class="button" href={`/compose?edit=${post.id}`}>
            Edit
          </a>
        )}
      </div>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={post.status} />
        </dd>
        <dt>Account</dt>
        <dd>@{post.account?.username ?? '—'}</dd>
        <dt>Scheduled</dt>
        <dd>{formatInstant(post.scheduledAt, zone)}</dd>
        <dt>Published</dt>
        <dd>{formatInstant(post.publishedAt, zone)}</dd>
        {post.xPostId && (
          <>
            <dt>X post id</dt>
            <dd>{post.xPostId}</dd>
          </>
        )}
        {post.lastError && (
          <>
            <dt>X said</dt>
            <dd class="reason">{post.lastError}</dd>
          </>
        )}
      </dl>
      <h2>Thread</h2>
      <ol class="thread-view">
        <li>
          <p>{post.content}</p>
          {post.mediaIds?.length > 0 && <p class="hint">{post.mediaIds.length} media attached</p>}
        </li>
        {(post.thread ?? []).map((t: any) => (
          <li key={t.id}>
            <p>{t.content}</p>
            {t.mediaIds?.length > 0 && <p class="hint">{t.mediaIds.length} media attached</p>}
            <StatusBadge status={t.status} />
          </li>
        ))}
      </ol>
      <h2>History</h2>
      <ol class="history">
        {(post.history ?? []).map((h: any, i: number) => (
          <li key={i}>
            <strong>{h.kind}</strong> — {formatInstant(h.at, zone)}
            {h.details && Object.keys(h.details).length > 0 && <code class="details">{JSON.stringify(h.details)}</code>}
          </li>
        ))}
      </ol>
    </section>
  );
}
