// Analytics pages against the documented API (issue 14: /api/analytics/overview, engagement,
// best-times, tweets; each with from, to, tz, accountId). Where the deployment has no analytics
// API yet (404), the page says so instead of showing zeros.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { useApp } from '../state';
import { addDays, browserZone, dateKey, fromLocal, parseDateKey, toLocal } from '../tz';
import { changeText, finite, formatCount, formatRate, heatLevel, type Metric } from '../metrics';
import { Alert, Empty, Field, formatInstant, Loading, zoneOptions } from '../ui';

/** A report's state. `refreshing` keeps the last answer on screen while a new one loads (a
 * new sort or range), so that the controls the user is on stay where they are. */
type Load<T> =
  | { state: 'loading' }
  | { state: 'unavailable' }
  | { state: 'error'; message: string }
  | { state: 'ok'; data: T; refreshing?: boolean };

function useAnalytics<T = any>(path: string | null, attempt = 0): Load<T> {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  useEffect(() => {
    if (!path) return;
    let current = true;
    setResult((r) => (r.state === 'ok' ? { ...r, refreshing: true } : { state: 'loading' }));
    api
      .api('GET', path)
      .then((data) => current && setResult({ state: 'ok', data }))
      .catch((e) => {
        if (!current) return;
        // NF_002 is the unknown-route 404: no analytics component is deployed.
        if (e instanceof api.ApiError && e.status === 404 && e.code === 'NF_002') setResult({ state: 'unavailable' });
        else setResult({ state: 'error', message: e instanceof Error ? e.message : 'Could not load' });
      });
    return () => {
      current = false;
    };
  }, [path, attempt]);
  return result;
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SORTS: Record<string, string> = { date: 'publication time', impressions: 'impressions', engagementRate: 'engagement rate' };

export function AnalyticsPage() {
  const state = useApp();
  const zone0 = state.accounts.length === 1 ? state.accounts[0].timezone : browserZone();
  const today = toLocal(Date.now(), zone0);
  const [accountId, setAccountId] = useState('');
  const [zone, setZone] = useState(zone0);
  const [from, setFrom] = useState(dateKey(addDays(today, -29)));
  const [to, setTo] = useState(dateKey(today));
  const [sort, setSort] = useState('impressions');
  const [attempt, setAttempt] = useState(0);
  const [exporting, setExporting] = useState(false);

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
  const overview = useAnalytics(`/api/analytics/overview?${q}`, attempt);
  const ok = overview.state === 'ok';
  const engagement = useAnalytics(ok ? `/api/analytics/engagement?${q}&bucket=day` : null, attempt);
  const audience = useAnalytics(ok ? `/api/analytics/audience?${q}` : null, attempt);
  const best = useAnalytics(ok ? `/api/analytics/best-times?${q}` : null, attempt);
  const tweets = useAnalytics(ok ? `/api/analytics/tweets?${q}&sort=${sort}&limit=50` : null, attempt);

  async function exportCsv() {
    setExporting(true);
    let blob: Blob;
    try {
      blob = await api.download(`/api/analytics/tweets?${q}&sort=${sort}`, 'text/csv');
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'The export failed', 'error');
      return;
    } finally {
      setExporting(false);
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `posts-${from}-${to}.csv`;
    a.click();
    // The browser reads the file after the click returns: let it go a little later.
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
    state.notify('Exported the posts as CSV');
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
      {overview.state === 'error' && (
        <Alert>
          Analytics could not be loaded: {overview.message}{' '}
          <button type="button" class="small secondary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </Alert>
      )}
      {overview.state === 'ok' && (
        <div aria-busy={overview.refreshing ? 'true' : undefined}>
          <Overview data={overview.data} zone={zone} />
          <section class="panel" aria-labelledby="eng-title">
            <h2 id="eng-title">Impressions and engagements per day</h2>
            <EngagementCharts load={engagement} />
          </section>
          <section class="panel" aria-labelledby="aud-title">
            <h2 id="aud-title">Followers</h2>
            <FollowerChart load={audience} />
          </section>
          <section class="panel" aria-labelledby="best-title">
            <h2 id="best-title">Best times to post ({zone})</h2>
            <BestTimes load={best} />
          </section>
          <section class="panel" aria-labelledby="posts-title">
            <div class="page-head">
              <h2 id="posts-title">Posts</h2>
              <button type="button" class="secondary" onClick={exportCsv} disabled={exporting}>
                {exporting ? 'Exporting…' : 'Export CSV'}
              </button>
            </div>
            <PostsTable load={tweets} sort={sort} onSort={setSort} zone={zone} />
          </section>
        </div>
      )}
    </section>
  );
}

function Overview({ data, zone }: { data: any; zone: string }) {
  // Each metric is `{value, previous, change[, changePercent]}` (the previous period of equal length).
  const totals = data.totals ?? {};
  const cards: Array<[string, Metric | undefined, 'count' | 'rate']> = [
    ['Impressions', totals.impressions, 'count'],
    ['Engagements', totals.engagements, 'count'],
    ['Engagement rate', data.engagementRate, 'rate'],
    ['Followers gained', data.followersGained, 'count'],
    ['Posts published', data.postsPublished, 'count'],
  ];
  return (
    <>
      <ul class="cards metrics" aria-label="Overview">
        {cards.map(([label, m, kind]) => (
          <li class="card metric" key={label}>
            <p class="metric-label">{label}</p>
            <p class="metric-value">
              <data value={finite(m?.value) ?? ''}>{kind === 'rate' ? formatRate(m?.value) : formatCount(m?.value)}</data>
            </p>
            <p class="metric-change">{changeText(m, kind)}</p>
          </li>
        ))}
      </ul>
      <p class="hint">
        {data.lastSyncedAt ? `Last synced ${formatInstant(data.lastSyncedAt, zone)}.` : 'Not synced with X yet: metrics appear after the first collection.'}
        {Array.isArray(data.gaps) && data.gaps.length > 0 ? ` ${data.gaps.length} gap(s) in the data (collection did not run for over a day).` : ''}
      </p>
    </>
  );
}

function rowsOf(data: any): any[] {
  return Array.isArray(data?.items) ? data.items : [];
}

interface ChartProps {
  rows: any[];
  value: (r: any) => number | null;
  label: (r: any) => string;
  what: string;
}

/** A bar per row on its own scale, with the first and last labels and the highest value;
 * each bar has a tooltip and the image a summary for screen readers. */
function BarChart({ rows, value, label, what }: ChartProps) {
  const values = rows.map(value);
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0 || known.every((v) => v === 0)) return <Empty>No {what} in this range yet.</Empty>;
  const max = Math.max(...known.map(Math.abs), 1);
  const top = known.indexOf(Math.max(...known));
  const w = 600;
  const h = 160;
  // Each row has an equal slot; a bar is at most 40 wide, centred in it (one day is not a wall).
  const slot = w / rows.length;
  const bw = Math.max(1, Math.min(40, slot - 2));
  return (
    <figure class="chart-figure">
      <svg viewBox={`0 0 ${w} ${h}`} class="chart" role="img" aria-label={`${what} per day from ${label(rows[0])} to ${label(rows[rows.length - 1])}: highest ${formatCount(known[top])} on ${label(rows[values.indexOf(known[top])])}`}>
        {rows.map((r, i) => {
          const v = values[i];
          const bh = v === null || v === 0 ? 0 : Math.max(1, (Math.abs(v) / max) * (h - 10));
          return (
            <rect key={i} x={i * slot + (slot - bw) / 2} y={h - bh} width={bw} height={bh} class="bar" data-value={v ?? ''}>
              <title>
                {label(r)}: {formatCount(v)} {what}
              </title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="axis">
        <span>{label(rows[0])}</span>
        <span>
          {what}, highest {formatCount(known[top])}
        </span>
        <span>{label(rows[rows.length - 1])}</span>
      </figcaption>
    </figure>
  );
}

function Pending({ load, children }: { load: Load<any>; children: (data: any) => any }) {
  if (load.state === 'loading') return <Loading what="the chart" />;
  if (load.state === 'unavailable') return <Empty>Not available.</Empty>;
  if (load.state === 'error') return <Alert>{load.message}</Alert>;
  return children(load.data);
}

const dayOfLocal = (r: any) => String(r.localStart ?? r.start ?? '').slice(0, 10);

function EngagementCharts({ load }: { load: Load<any> }) {
  return (
    <Pending load={load}>
      {(data) => {
        const rows = rowsOf(data);
        if (rows.length === 0) return <Empty>No data in this range yet.</Empty>;
        return (
          <div class="charts" data-chart="engagement">
            <BarChart rows={rows} value={(r) => finite(r.impressions)} label={dayOfLocal} what="impressions" />
            <BarChart rows={rows} value={(r) => finite(r.engagements)} label={dayOfLocal} what="engagements" />
          </div>
        );
      }}
    </Pending>
  );
}

function FollowerChart({ load }: { load: Load<any> }) {
  return (
    <Pending load={load}>
      {(data) => {
        const rows = rowsOf(data);
        if (rows.length === 0) return <Empty>No follower counts in this range yet: accounts are read from X every six hours.</Empty>;
        const nets = rows.map((r) => finite(r.netFollowers)).filter((v): v is number => v !== null);
        const net = nets.reduce((a, b) => a + b, 0);
        return (
          <div data-chart="followers">
            <BarChart rows={rows} value={(r) => finite(r.followers)} label={(r) => String(r.date)} what="followers" />
            <p class="hint">
              {nets.length === 0 ? 'Followers at the end of each day X was read; the net change needs two days.' : `Net change over these days: ${net > 0 ? '+' : ''}${formatCount(net)}.`}
            </p>
          </div>
        );
      }}
    </Pending>
  );
}

function BestTimes({ load }: { load: Load<any> }) {
  if (load.state === 'loading') return <Loading what="best times" />;
  if (load.state === 'error') return <Alert>{load.message}</Alert>;
  if (load.state !== 'ok') return <Empty>Not available.</Empty>;
  const d = load.data;
  const cells: any[] = Array.isArray(d?.cells) ? d.cells : [];
  // dayOfWeek is ISO: 1 = Monday … 7 = Sunday.
  const at = (day: number, hour: number) => cells.find((c) => c.dayOfWeek - 1 === day && c.hour === hour);
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return (
    <>
      {d?.recommendations?.length ? (
        <p>
          Recommended: {d.recommendations.map((r: any) => `${DAY_NAMES[r.dayOfWeek - 1] ?? ''} ${hh(r.hour)} (lift ${finite(r.medianLift)?.toFixed(2) ?? '—'}, n=${r.n})`).join(', ')}.
        </p>
      ) : finite(d?.morePostsNeeded) ? (
        <p>
          {d.morePostsNeeded} more measured posts are needed before recommending times ({formatCount(d.postsMeasured)} so far).
        </p>
      ) : null}
      <p class="hint">
        Each cell is the median lift of the posts published in that hour (their engagement rate at {d?.fixedAgeHours ?? 24} hours ÷ their account's median), with n, the number of posts.
      </p>
      {cells.length === 0 ? (
        <Empty>No post in this range is a day old yet: the grid fills in as posts are measured.</Empty>
      ) : (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Best times (scrolls sideways)">
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
                    const lift = finite(c?.medianLift);
                    return (
                      <td key={hour} class={`heat heat-${heatLevel(lift)}`} title={c ? `${name} ${hh(hour)}: lift ${lift?.toFixed(2) ?? '—'}, n=${c.n}` : undefined}>
                        {c?.n ? (
                          <>
                            {c.n}
                            <span class="visually-hidden"> posts, lift {lift?.toFixed(2) ?? 'unknown'}</span>
                          </>
                        ) : (
                          ''
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function PostsTable({ load, sort, onSort, zone }: { load: Load<any>; sort: string; onSort: (s: string) => void; zone: string }) {
  if (load.state === 'loading') return <Loading what="posts" />;
  if (load.state === 'error') return <Alert>{load.message}</Alert>;
  if (load.state !== 'ok') return <Empty>Not available.</Empty>;
  const rows = rowsOf(load.data);
  if (rows.length === 0) return <Empty>No published posts in this range.</Empty>;
  // Sorting is the API's (greatest first); the header of the sorted column says so.
  const header = (key: string, label: string) => (
    <th scope="col" aria-sort={sort === key ? 'descending' : undefined}>
      <button type="button" class="link sort" onClick={() => onSort(key)}>
        {label}
        <span aria-hidden="true">{sort === key ? ' ▼' : ''}</span>
      </button>
    </th>
  );
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Posts (scrolls sideways)" aria-busy={load.refreshing ? 'true' : undefined}>
      <table class="list analytics-posts">
        <caption class="visually-hidden">Published posts, by {SORTS[sort] ?? sort}, greatest first; activate a column's header to sort by it</caption>
        <thead>
          <tr>
            {header('date', 'Published')}
            <th scope="col">Post</th>
            {header('impressions', 'Impressions')}
            <th scope="col">Likes</th>
            <th scope="col">Reposts</th>
            <th scope="col">Replies</th>
            <th scope="col">Engagements</th>
            {header('engagementRate', 'Engagement rate')}
          </tr>
        </thead>
        <tbody>
          {rows.map((r: any) => (
            <tr key={r.id} data-id={r.id}>
              <td>{formatInstant(r.publishedAt, zone)}</td>
              <td class="post-text">
                {r.text}
                {r.imported ? <span class="hint"> (imported from X)</span> : null}
              </td>
              <td>{formatCount(r.impressions)}</td>
              <td>{formatCount(r.likes)}</td>
              <td>{formatCount(r.reposts)}</td>
              <td>{formatCount(r.replies)}</td>
              <td>{formatCount(r.engagements)}</td>
              <td>{formatRate(r.engagementRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {load.refreshing && <Loading what="posts" />}
    </div>
  );
}
