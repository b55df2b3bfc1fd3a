import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../api';
import { navigate, useLocation } from '../router';
import { can, useApp } from '../state';
import {
  addDays,
  browserZone,
  dateKey,
  fromLocal,
  isValidZone,
  monthGrid,
  parseDateKey,
  placeInWeek,
  rfc3339InZone,
  sameDate,
  startOfWeek,
  timeLabel,
  toLocal,
  type LocalDate,
} from '../tz';
import { newPostAt, step, MONTH_DEFAULT_HOUR, type GridPos } from '../move';
import { Alert, formatInstant, Loading, zoneOptions } from '../ui';

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The instant a post occupies on the calendar. */
function instantOf(p: any): number | null {
  const iso = p.publishedAt ?? p.scheduledAt;
  return iso ? Date.parse(iso) : null;
}

/** A rescheduled copy of a post: PUT replaces the whole post, so everything is sent again. */
export function bodyFor(p: any, scheduledAt: string): any {
  const body: any = { content: p.content, accountId: p.account?.id, scheduledAt };
  if (p.mediaIds?.length) body.mediaIds = p.mediaIds;
  if (p.thread?.length) body.thread = p.thread.map((t: any) => ({ content: t.content, ...(t.mediaIds?.length ? { mediaIds: t.mediaIds } : {}) }));
  if (p.poll) body.poll = p.poll;
  if (p.replyTo) body.replyTo = p.replyTo;
  if (p.quoteOf) body.quoteOf = p.quoteOf;
  return body;
}

export function CalendarPage() {
  const state = useApp();
  const loc = useLocation();
  const editor = can(state, 'editor');
  const view = loc.query.get('view') === 'month' ? 'month' : 'week';
  const defaultZone = state.accounts.length === 1 ? state.accounts[0].timezone : browserZone();
  const zoneParam = loc.query.get('tz');
  const zone = zoneParam && isValidZone(zoneParam) ? zoneParam : defaultZone;
  const today = toLocal(Date.now(), zone);
  const anchor: LocalDate = parseDateKey(loc.query.get('date') ?? '') ?? today;
  const [posts, setPosts] = useState<any[] | null>(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);
  // The post being moved with the keyboard, where it would go, and what to announce.
  const [moving, setMoving] = useState<{ id: string; pos: GridPos } | null>(null);
  const [said, setSaid] = useState('');
  const refocus = useRef<string | null>(null);

  const days: LocalDate[] = view === 'week' ? Array.from({ length: 7 }, (_, i) => addDays(startOfWeek(anchor), i)) : monthGrid(anchor.year, anchor.month);
  const rangeFrom = fromLocal(days[0], 0, 0, zone);
  const rangeTo = fromLocal(addDays(days[days.length - 1], 1), 0, 0, zone);

  useEffect(() => {
    setError('');
    const q = `from=${encodeURIComponent(new Date(rangeFrom).toISOString())}&to=${encodeURIComponent(new Date(rangeTo).toISOString())}`;
    api
      .listAll(`/api/tweets?${q}`, 1000)
      .then((items) => setPosts(items.filter((p) => p.status !== 'cancelled')))
      .catch((e) => setError(e.message));
  }, [rangeFrom, rangeTo, version, state.workspace?.id]);

  // After a keyboard move the chip is drawn in its new cell: give it the focus back.
  useEffect(() => {
    const id = refocus.current;
    if (!id || !posts) return;
    const link = document.querySelector<HTMLElement>(`.chip[data-post-id="${id}"] a`);
    if (link) {
      refocus.current = null;
      link.focus();
    }
  }, [posts]);

  // Refresh while posts are due, so that publishing shows up without a reload.
  useEffect(() => {
    const pending = (posts ?? []).some((p) => p.status === 'scheduled' || p.status === 'publishing');
    if (!pending) return;
    const t = setInterval(() => setVersion((v) => v + 1), 5000);
    return () => clearInterval(t);
  }, [posts]);

  const go = (changes: Record<string, string>) => {
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) q.set(k, v);
    navigate(`/calendar?${q}`, true);
  };
  const shift = (n: number) => {
    const next = view === 'week' ? addDays(anchor, 7 * n) : { year: anchor.year + Math.floor((anchor.month - 1 + n) / 12), month: ((((anchor.month - 1 + n) % 12) + 12) % 12) + 1, day: 1 };
    go({ date: dateKey(next) });
  };

  async function reschedule(id: string, ms: number) {
    try {
      const p = await api.api('GET', `/api/tweets/${id}`);
      await api.api('PUT', `/api/tweets/${id}`, bodyFor(p, rfc3339InZone(ms, zone)));
      state.notify(`Moved to ${formatInstant(new Date(ms).toISOString(), zone)} (${zone})`);
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'Could not move the post', 'error');
    }
    setVersion((v) => v + 1);
  }

  // The keyboard alternative to dragging: Space picks a post up, the arrow keys choose the
  // slot (announced, and outlined on the grid), Enter or Space drops it, Escape puts it back.
  const instantAt = (pos: GridPos) => fromLocal(days[pos.index], pos.hour, pos.minute, zone);
  const describe = (pos: GridPos) => `${formatInstant(new Date(instantAt(pos)).toISOString(), zone)}${instantAt(pos) <= Date.now() ? ', in the past' : ''}`;
  function moveKey(p: any, e: KeyboardEvent) {
    if (!moving || moving.id !== p.id) {
      if (e.key !== ' ' || !editor || !movable(p)) return;
      const ms = instantOf(p);
      const l = ms === null ? null : toLocal(ms, zone);
      const index = l ? days.findIndex((d) => sameDate(d, l)) : -1;
      if (!l || index < 0) return;
      e.preventDefault();
      const pos = { index, hour: l.hour, minute: l.minute };
      setMoving({ id: p.id, pos });
      setSaid(`Picked up the post at ${describe(pos)}. Arrow keys choose another ${view === 'week' ? 'hour or day' : 'day'}, Enter drops it there, Escape puts it back.`);
      return;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      setMoving(null);
      setSaid('Move cancelled: the post stays where it was.');
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const ms = instantAt(moving.pos);
      if (ms <= Date.now()) {
        setSaid(`${describe(moving.pos)} is in the past: choose a later slot, or Escape to cancel.`);
        return;
      }
      setMoving(null);
      const original = instantOf(p);
      if (original !== null && Math.abs(original - ms) < 60_000) {
        setSaid('Dropped where it was: nothing changed.');
        return;
      }
      setSaid(`Dropped at ${describe(moving.pos)}.`);
      refocus.current = p.id;
      void reschedule(p.id, ms);
      return;
    }
    const next = step(moving.pos, e.key, view, days.length);
    if (!next) return;
    e.preventDefault();
    if ('edge' in next) {
      setSaid(`The ${view === 'week' ? 'week' : 'month'} shown ends here: the post stays at ${describe(moving.pos)}.`);
      return;
    }
    setMoving({ id: p.id, pos: next.pos });
    setSaid(`${describe(next.pos)}.`);
  }
  const moveProps: MoveProps = {
    moving: moving?.id ?? null,
    target: moving ? (view === 'week' ? `${dateKey(days[moving.pos.index])}T${String(moving.pos.hour).padStart(2, '0')}` : dateKey(days[moving.pos.index])) : null,
    targetTime: moving ? timeLabel(instantAt(moving.pos), zone) : null,
    onKey: moveKey,
    onBlur: (p) => {
      if (moving?.id === p.id) {
        setMoving(null);
        setSaid('Move cancelled: the post stays where it was.');
      }
    },
    onNew: (start, end) => {
      const at = newPostAt(start, end, Date.now());
      if (at !== null) navigate(`/compose?at=${encodeURIComponent(new Date(at).toISOString())}`);
    },
  };

  async function retry(p: any) {
    try {
      const full = await api.api('GET', `/api/tweets/${p.id}`);
      const at = rfc3339InZone(Date.now() + 60_000, zone);
      await api.api('POST', '/api/tweets', { ...bodyFor(full, at), allowDuplicate: true });
      await api.api('DELETE', `/api/tweets/${p.id}`);
      state.notify('Retrying: the post goes out again in a minute');
    } catch (e) {
      state.notify(e instanceof Error ? e.message : 'Could not retry', 'error');
    }
    setVersion((v) => v + 1);
  }

  const title = view === 'week' ? `Week of ${days[0].day} ${MONTHS[days[0].month - 1]} ${days[0].year}` : `${MONTHS[anchor.month - 1]} ${anchor.year}`;
  const failed = (posts ?? []).filter((p) => p.status === 'failed');

  return (
    <section class="calendar">
      <div class="page-head">
        <h1>Calendar</h1>
        {editor && (
          <a class="button" href="/compose">
            New post
          </a>
        )}
      </div>
      <div class="toolbar" role="group" aria-label="Calendar controls">
        <div class="segmented" role="group" aria-label="View">
          <button type="button" aria-pressed={view === 'week'} class={view === 'week' ? '' : 'secondary'} onClick={() => go({ view: 'week' })}>
            Week
          </button>
          <button type="button" aria-pressed={view === 'month'} class={view === 'month' ? '' : 'secondary'} onClick={() => go({ view: 'month' })}>
            Month
          </button>
        </div>
        <button type="button" class="secondary" onClick={() => shift(-1)} aria-label={view === 'week' ? 'Previous week' : 'Previous month'}>
          ←
        </button>
        <button type="button" class="secondary" onClick={() => go({ date: dateKey(today) })}>
          Today
        </button>
        <button type="button" class="secondary" onClick={() => shift(1)} aria-label={view === 'week' ? 'Next week' : 'Next month'}>
          →
        </button>
        <h2 class="range-title">{title}</h2>
        <label for="calendar-zone">Time zone</label>
        <select id="calendar-zone" value={zone} onChange={(e) => go({ tz: e.currentTarget.value })}>
          {zoneOptions([zone, ...state.accounts.map((a) => a.timezone), browserZone()]).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </div>
      {editor && (
        <p class="hint" id="calendar-keys">
          Drag a post to another slot to reschedule it, or focus it and press Space, choose the slot with the arrow keys and press Enter. Enter on a post opens it for editing; click an empty slot to start a post there.
        </p>
      )}
      <p class="visually-hidden" aria-live="assertive" data-testid="calendar-live">
        {said}
      </p>
      {error && <Alert>{error}</Alert>}
      {failed.length > 0 && (
        <Alert>
          {failed.length === 1 ? 'One post failed' : `${failed.length} posts failed`} to publish. X said: {failed.map((p) => p.lastError ?? 'no reason given').join('; ')}
        </Alert>
      )}
      {!posts ? (
        <Loading what="the calendar" />
      ) : view === 'week' ? (
        <WeekView days={days} zone={zone} posts={posts} editor={editor} today={today} onMove={reschedule} onRetry={retry} move={moveProps} />
      ) : (
        <MonthView days={days} month={anchor.month} zone={zone} posts={posts} editor={editor} today={today} onMove={reschedule} onRetry={retry} move={moveProps} />
      )}
    </section>
  );
}

interface ViewProps {
  days: LocalDate[];
  zone: string;
  posts: any[];
  editor: boolean;
  today: LocalDate;
  onMove: (id: string, ms: number) => void;
  onRetry: (p: any) => void;
  move: MoveProps;
}

/** The keyboard move and new posts from empty slots, as the views need them. */
interface MoveProps {
  /** The post being moved, and the cell it would go to (`data-slot` or `data-day`). */
  moving: string | null;
  target: string | null;
  /** `HH:MM` of the slot the post would go to, drawn there as a placeholder. */
  targetTime: string | null;
  onKey: (p: any, e: KeyboardEvent) => void;
  onBlur: (p: any) => void;
  /** A click on the empty part of a cell spanning [start, end). */
  onNew: (start: number, end: number) => void;
}

const movable = (p: any) => p.status === 'scheduled' || p.status === 'draft';

function Chip({ p, zone, editor, onRetry, move }: { p: any; zone: string; editor: boolean; onRetry: (p: any) => void; move: MoveProps }) {
  const ms = instantOf(p);
  const canDrag = editor && movable(p);
  const href = editor && movable(p) ? `/compose?edit=${p.id}` : `/posts/${p.id}`;
  return (
    <div
      class={`chip chip-${p.status}${move.moving === p.id ? ' lifted' : ''}`}
      draggable={canDrag}
      data-post-id={p.id}
      onDragStart={(e) => {
        e.dataTransfer?.setData('text/x-post-id', p.id);
        e.dataTransfer?.setData('text/plain', p.id);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
      }}
    >
      <a
        href={href}
        title={p.content}
        aria-describedby={canDrag ? 'calendar-keys' : undefined}
        onKeyDown={canDrag ? (e) => move.onKey(p, e) : undefined}
        onBlur={canDrag ? () => move.onBlur(p) : undefined}
      >
        <span class="chip-time">{ms ? timeLabel(ms, zone) : ''}</span> <span class="chip-account">@{p.account?.username ?? '?'}</span> <span class="chip-text">{p.content}</span>
        <span class="visually-hidden">, {p.status}</span>
      </a>
      {p.status === 'failed' && (
        <div class="chip-failed">
          <span class="chip-reason">{p.lastError ?? 'X gave no reason'}</span>
          {editor && (
            <button type="button" class="small danger" onClick={() => onRetry(p)}>
              Retry
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** Where a post moved with the keyboard would land (the live region says it in words). */
function Ghost({ time }: { time: string | null }) {
  return (
    <div class="ghost" aria-hidden="true">
      → {time}
    </div>
  );
}

function dropHandlers(editor: boolean, onDrop: (id: string) => void) {
  if (!editor) return {};
  return {
    onDragOver: (e: DragEvent) => {
      e.preventDefault();
      (e.currentTarget as HTMLElement).classList.add('drop');
    },
    onDragLeave: (e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove('drop'),
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      (e.currentTarget as HTMLElement).classList.remove('drop');
      const id = e.dataTransfer?.getData('text/x-post-id') || e.dataTransfer?.getData('text/plain');
      if (id) onDrop(id);
    },
  };
}

/** A click on a cell outside its posts starts a new post there (editors; a pointer shortcut
 * for the New post button). */
function newPostClick(editor: boolean, move: MoveProps, start: number, end: number) {
  if (!editor || end <= Date.now()) return {};
  return {
    onClick: (e: MouseEvent) => {
      if ((e.target as HTMLElement).closest('.chip')) return;
      move.onNew(start, end);
    },
  };
}

function WeekView({ days, zone, posts, editor, today, onMove, onRetry, move }: ViewProps) {
  const weekStart = days[0];
  const cells = new Map<string, any[]>();
  for (const p of posts) {
    const ms = instantOf(p);
    const at = ms === null ? null : placeInWeek(ms, weekStart, zone);
    if (!at) continue;
    const k = `${at.day}-${at.hour}`;
    cells.set(k, [...(cells.get(k) ?? []), p]);
  }
  const minuteOf = (id: string) => {
    const p = posts.find((x) => x.id === id);
    const ms = p ? instantOf(p) : null;
    return ms === null ? 0 : toLocal(ms, zone).minute;
  };
  return (
    <div class="week-scroll" tabIndex={0} role="region" aria-label="Week (scrolls sideways)">
      <table class="week">
        <caption class="visually-hidden">Posts by day and hour, {zone}</caption>
        <thead>
          <tr>
            <th scope="col" class="hour-col">
              <span class="visually-hidden">Hour</span>
            </th>
            {days.map((d, i) => (
              <th scope="col" key={i} class={sameDate(d, today) ? 'today' : ''}>
                {DAY_NAMES[i]} {d.day}/{d.month}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: 24 }, (_, hour) => (
            <tr key={hour}>
              <th scope="row" class="hour-col">
                {String(hour).padStart(2, '0')}:00
              </th>
              {days.map((d, day) => {
                const key = `${dateKey(d)}T${String(hour).padStart(2, '0')}`;
                const start = fromLocal(d, hour, 0, zone);
                const end = hour === 23 ? fromLocal(addDays(d, 1), 0, 0, zone) : fromLocal(d, hour + 1, 0, zone);
                const open = editor && end > Date.now();
                return (
                  <td
                    key={day}
                    class={`slot${open ? ' open' : ''}${move.target === key ? ' drop' : ''}`}
                    data-slot={key}
                    {...dropHandlers(editor, (id) => onMove(id, fromLocal(d, hour, minuteOf(id), zone)))}
                    {...newPostClick(editor, move, start, end)}
                  >
                    {move.target === key && <Ghost time={move.targetTime} />}
                    {(cells.get(`${day}-${hour}`) ?? []).map((p) => (
                      <Chip key={p.id} p={p} zone={zone} editor={editor} onRetry={onRetry} move={move} />
                    ))}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MonthView({ days, month, zone, posts, editor, today, onMove, onRetry, move }: ViewProps & { month: number }) {
  const byDay = new Map<string, any[]>();
  for (const p of posts) {
    const ms = instantOf(p);
    if (ms === null) continue;
    const k = dateKey(toLocal(ms, zone));
    byDay.set(k, [...(byDay.get(k) ?? []), p]);
  }
  for (const list of byDay.values()) list.sort((a, b) => (instantOf(a) ?? 0) - (instantOf(b) ?? 0));
  const keepTime = (id: string, d: LocalDate) => {
    const p = posts.find((x) => x.id === id);
    const l = toLocal(p ? instantOf(p) ?? Date.now() : Date.now(), zone);
    onMove(id, fromLocal(d, l.hour, l.minute, zone));
  };
  return (
    <div class="month-scroll" tabIndex={0} role="region" aria-label="Month (scrolls sideways)">
      <table class="month">
        <caption class="visually-hidden">Posts by day, {zone}</caption>
        <thead>
          <tr>
            {DAY_NAMES.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: 6 }, (_, w) => (
            <tr key={w}>
              {days.slice(w * 7, w * 7 + 7).map((d) => {
                const end = fromLocal(addDays(d, 1), 0, 0, zone);
                const open = editor && end > Date.now();
                return (
                  <td
                    key={dateKey(d)}
                    class={`day${d.month !== month ? ' other' : ''}${sameDate(d, today) ? ' today' : ''}${open ? ' open' : ''}${move.target === dateKey(d) ? ' drop' : ''}`}
                    data-day={dateKey(d)}
                    {...dropHandlers(editor, (id) => keepTime(id, d))}
                    {...newPostClick(editor, move, fromLocal(d, MONTH_DEFAULT_HOUR, 0, zone), end)}
                  >
                    <span class="day-number">{d.day}</span>
                    {move.target === dateKey(d) && <Ghost time={move.targetTime} />}
                    {(byDay.get(dateKey(d)) ?? []).map((p) => (
                      <Chip key={p.id} p={p} zone={zone} editor={editor} onRetry={onRetry} move={move} />
                    ))}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
