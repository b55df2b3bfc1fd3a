// Analytics pages against the documented API (issue 14: /api/analytics/overview, engagement,
// best-times, tweets; each with from, to, tz, accountId). Where the deployment has no analytics
// API yet (404), the page says so instead of showing zeros.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { useApp } from '../state';
import { addDays, browserZone, dateKey, fromLocal, parseDateKey, toLocal } from '../tz';
import { Alert, Empty, Field, formatInstant, Loading, zoneOptions } from '../ui';

type Load<T> = { state: 'loading' } | { state: 'unavailable' } | { state: 'error'; message: string } | { state: 'ok'; data: T };

function useAnalytics<T = any>(path: string | null): Load<T> {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    if (!path) return;
    setResult({ state: 'loading' });
    api
      .api('GET', path)
      .then((data) => setResult({ state: 'ok', data }))
      .catch((e) => {
        // NF_002 is the unknown-route 404: no analytics component is deployed.
        if (e instanceof api.ApiError && e.status === 404 && e.code === 'NF_002') setResult({ state: 'unavailable' });
        else setResult({ state: 'error', message: e instanceof Error ? e.message : 'Could not load' });
      });
  }, [path]);
  return result;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const fmt = (v: unknown) => {
  const n = num(v);
  return n === null ? '—' : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : Number.isInteger(n) ? String(n) : n.toFixed(2);
};

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function AnalyticsPage() {
  const state = useApp();
  const zone0 = state.accounts.length === 1 ? state.accounts[0].timezone : browserZone();
  const today = toLocal(Date.now(), zone0);
  const [accountId, setAccountId] = useState('');
  const [zone, setZone] = useState(zone0);
  const [from, setFrom] = useState(dateKey(addDays(today, -29)));
  const [to, setTo] = useState(dateKey(today));
  const [sort, setSort] = useState('impressions');

  const range = () => {
    const f = parseDateKey(from);
    const t = parseDateKey(to);
    if (!f || !t) return '';
    const q = new URLSearchParams({
      from: new Date(fromLocal(f, 0, 0, zone)).toISOString(),
      to: new Date(fromLocal(addDays(t, 1), 0, 0, zone)).toISOString(),
      tz: zone,
    });
    if (accountId) q.set('accountId', accountId);
    return q.toString();
  };
  const q = range();
  const overview = useAnalytics(`/api/analytics/overview?${q}`);
  const engagement = useAnalytics(overview.state === 'ok' ? `/api/analytics/engagement?${q}&bucket=day` : null);
  const audience = useAnalytics(overview.state === 'ok' ? `/api/analytics/audience?${q}` : null);
  const best = useAnalytics(overview.state === 'ok' ? `/api/analytics/best-times?${q}` : null);
  const tweets = useAnalytics(overview.state === 'ok' ? `/api/analytics/tweets?${q}&sort=${sort}&limit=50` : null);

  async function exportCsv() {
    let blob: Blob;
    try {
      blob = await api.download(`/api/analytics/tweets?${q}&sort=${sort}&limit=1000`, 'text/csv');
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'The export failed', 'error');
      return;
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `posts-${from}-${to}.csv`;
    a.click();
    URL.revokeObjectURL(url);
  }

  return (
    <section class="analytics">
      <h1>Analytics</h1>
      <form class="toolbar" onSubmit={(e) => e.preventDefault()} aria-label="Range">
        <Field id="an-account" label="Account">
          <select id="an-account" value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)}>
            <option value="">All accounts</option>
            {state.accounts.map((a) => (
              <option key={a.id} value={a.id}>
                @{a.username}
              </option>
            ))}
          </select>
        </Field>
        <Field id="an-from" label="From">
          <input id="an-from" type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </Field>
        <Field id="an-to" label="To">
          <input id="an-to" type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </Field>
        <Field id="an-zone" label="Time zone">
          <select id="an-zone" value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            {zoneOptions([zone, ...state.accounts.map((a) => a.timezone)]).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </Field>
      </form>
      {overview.state === 'loading' && <Loading what="analytics" />}
      {overview.state === 'unavailable' && (
        <Alert kind="info">
          Analytics unavailable: this deployment does not serve the analytics API yet. Publishing and scheduling work as usual; metrics appear here once it does.
        </Alert>
      )}
      {overview.state === 'error' && <Alert>{overview.message}</Alert>}
      {overview.state === 'ok' && (
        <>
          <Overview data={overview.data} zone={zone} />
          <section class="panel" aria-labelledby="eng-title">
            <h2 id="eng-title">Impressions and engagements per day</h2>
            <Series load={engagement} keys={['impressions', 'engagements']} />
          </section>
          <section class="panel" aria-labelledby="aud-title">
            <h2 id="aud-title">Followers</h2>
            <Series load={audience} keys={['netFollowers', 'followers']} />
          </section>
          <section class="panel" aria-labelledby="best-title">
            <h2 id="best-title">Best times to post ({zone})</h2>
            <BestTimes load={best} />
          </section>
          <section class="panel" aria-labelledby="posts-title">
            <div class="page-head">
              <h2 id="posts-title">Posts</h2>
              <button type="button" class="secondary" onClick={exportCsv}>
                Export CSV
              </button>
            </div>
            <PostsTable load={tweets} sort={sort} onSort={setSort} zone={zone} />
          </section>
        </>
      )}
    </section>
  );
}

function Overview({ data, zone }: { data: any; zone: string }) {
  // Each metric is `{value, previous, change, changePercent}` (the previous period of equal length).
  const totals = data.totals ?? {};
  const metric = (m: any): [unknown, unknown] => [num(m) ?? m?.value, m?.changePercent ?? (num(m?.previous) ? ((m.value - m.previous) / m.previous) * 100 : null)];
  const cards: Array<[string, unknown, unknown]> = [
    ['Impressions', ...metric(totals.impressions)],
    ['Engagements', ...metric(totals.engagements)],
    ['Engagement rate', ...metric(data.engagementRate)],
    ['Followers gained', ...metric(data.followersGained)],
    ['Posts published', ...metric(data.postsPublished)],
  ];
  return (
    <>
      <ul class="cards metrics">
        {cards.map(([label, value, delta]) => {
          const d = num(delta);
          return (
            <li class="card metric" key={label}>
              <p class="metric-label">{label}</p>
              <p class="metric-value">{label === 'Engagement rate' && num(value) !== null ? `${((value as number) * 100).toFixed(2)}%` : fmt(value)}</p>
              <p class="metric-change">{d === null ? 'no earlier period to compare' : `${d >= 0 ? '▲' : '▼'} ${Math.abs(d).toFixed(1)}% vs previous period`}</p>
            </li>
          );
        })}
      </ul>
      <p class="hint">
        Last synced {formatInstant(data.lastSyncedAt, zone)}.{Array.isArray(data.gaps) && data.gaps.length > 0 ? ` ${data.gaps.length} gap(s) in the data.` : ''}
      </p>
    </>
  );
}

function rowsOf(data: any): any[] {
  return Array.isArray(data) ? data : (data?.items ?? data?.buckets ?? data?.series ?? data?.days ?? []);
}

function Series({ load, keys }: { load: Load<any>; keys: string[] }) {
  if (load.state === 'loading') return <Loading what="the chart" />;
  if (load.state === 'unavailable') return <Empty>Not available.</Empty>;
  if (load.state === 'error') return <Alert>{load.message}</Alert>;
  const rows = rowsOf(load.data);
  if (rows.length === 0) return <Empty>No data in this range yet.</Empty>;
  const key = keys.find((k) => rows.some((r) => num(r[k]) !== null)) ?? keys[0];
  const max = Math.max(1, ...rows.map((r) => Math.abs(num(r[key]) ?? 0)));
  const w = 600;
  const h = 160;
  const bw = w / rows.length;
  return (
    <figure>
      <svg viewBox={`0 0 ${w} ${h}`} class="chart" role="img" aria-label={`${key} per bucket, highest ${max}`}>
        {rows.map((r, i) => {
          const v = Math.abs(num(r[key]) ?? 0);
          const bh = (v / max) * (h - 10);
          return <rect key={i} x={i * bw + 1} y={h - bh} width={Math.max(1, bw - 2)} height={bh} class="bar" />;
        })}
      </svg>
      <figcaption>{key}</figcaption>
    </figure>
  );
}

function BestTimes({ load }: { load: Load<any> }) {
  if (load.state === 'loading') return <Loading what="best times" />;
  if (load.state !== 'ok') return <Empty>Not available.</Empty>;
  const d = load.data;
  const cells: any[] = Array.isArray(d?.cells) ? d.cells : Array.isArray(d?.grid) ? d.grid.flatMap((row: any[], day: number) => row.map((c: any, hour: number) => ({ day, hour, ...c }))) : [];
  // dayOfWeek is ISO: 1 = Monday … 7 = Sunday.
  const dayOf = (c: any) => (typeof c.dayOfWeek === 'number' ? c.dayOfWeek - 1 : (c.day ?? c.weekday));
  const at = (day: number, hour: number) => cells.find((c) => dayOf(c) === day && c.hour === hour);
  return (
    <>
      {d?.recommendations?.length ? (
        <p>Recommended: {d.recommendations.map((r: any) => `${DAY_NAMES[dayOf(r)] ?? ''} ${r.hour}:00 (n=${r.n})`).join(', ')}</p>
      ) : num(d?.morePostsNeeded) ? (
        <p>{d.morePostsNeeded} more published posts are needed before recommending times.</p>
      ) : null}
      <div class="table-scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
        <table class="heatmap">
          <caption class="visually-hidden">Median lift by weekday and hour, with the number of posts</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {Array.from({ length: 24 }, (_, h) => (
                <th scope="col" key={h}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {DAY_NAMES.map((name, day) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                {Array.from({ length: 24 }, (_, hour) => {
                  const c = at(day, hour);
                  const lift = num(c?.medianLift ?? c?.lift);
                  const level = lift === null ? 0 : Math.min(4, Math.max(1, Math.round(lift * 2)));
                  return (
                    <td key={hour} class={`heat heat-${level}`} title={c ? `lift ${fmt(lift)}, n=${c.n ?? 0}` : 'no posts'}>
                      {c?.n ? c.n : ''}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function PostsTable({ load, sort, onSort, zone }: { load: Load<any>; sort: string; onSort: (s: string) => void; zone: string }) {
  if (load.state === 'loading') return <Loading what="posts" />;
  if (load.state !== 'ok') return <Empty>Not available.</Empty>;
  const rows = rowsOf(load.data);
  if (rows.length === 0) return <Empty>No published posts in this range.</Empty>;
  const header = (key: string, label: string) => (
    <th scope="col" aria-sort={sort === key ? 'descending' : 'none'}>
      <button type="button" class="link" onClick={() => onSort(key)}>
        {label}
      </button>
    </th>
  );
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
      <table class="list">
        <thead>
          <tr>
            {header('date', 'Published')}
            <th scope="col">Post</th>
            {header('impressions', 'Impressions')}
            <th scope="col">Likes</th>
            <th scope="col">Reposts</th>
            <th scope="col">Replies</th>
            {header('engagementRate', 'Engagement rate')}
          </tr>
        </thead>
        <tbody>
          {rows.map((r: any, i: number) => {
            const m = r.metrics ?? r;
            return (
              <tr key={r.id ?? i}>
                <td>{formatInstant(r.publishedAt, zone)}</td>
                <td class="post-text">{r.content ?? r.text}</td>
                <td>{fmt(m.impressions)}</td>
                <td>{fmt(m.likes)}</td>
                <td>{fmt(m.reposts)}</td>
                <td>{fmt(m.replies)}</td>
                <td>{num(r.engagementRate ?? m.engagementRate) === null ? '—' : `${((r.engagementRate ?? m.engagementRate) * 100).toFixed(2)}%`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
