// Time-zone arithmetic with the browser's own tz database (Intl), no library: wall-clock
// dates and times in an IANA zone, DST-correct in both directions.

export interface LocalDate {
  year: number;
  month: number; // 1–12
  day: number;
}

export interface LocalTime extends LocalDate {
  hour: number;
  minute: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formats.set(tz, f);
  }
  return f;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function isValidZone(tz: string): boolean {
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `tz` at the instant `ms`. */
export function toLocal(ms: number, tz: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of format(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? 'Mon'),
  };
}

/** The zone's offset from UTC at instant `ms`, in milliseconds (east positive). */
export function offsetMs(ms: number, tz: string): number {
  const t = Math.floor(ms / 60_000) * 60_000;
  const l = toLocal(t, tz);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute) - t;
}

/**
 * The instant of a wall-clock time in `tz`. In the hour a DST change repeats, the earlier
 * instant; in the hour it skips, the time is moved forward by the gap (02:30 → 03:30), as
 * calendars and X's own scheduler do.
 */
export function fromLocal(d: LocalDate, hour: number, minute: number, tz: string): number {
  const naive = Date.UTC(d.year, d.month - 1, d.day, hour, minute);
  // The offsets in force a day before and a day after cover both sides of any change.
  const day = 86_400_000;
  const candidates = [naive - day, naive, naive + day].map((t) => naive - offsetMs(t, tz));
  const exact = candidates.filter((c) => {
    const l = toLocal(c, tz);
    return l.year === d.year && l.month === d.month && l.day === d.day && l.hour === hour && l.minute === minute;
  });
  return exact.length > 0 ? Math.min(...exact) : Math.max(...candidates);
}

export function addDays(d: LocalDate, n: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** 0 = Monday … 6 = Sunday, for a calendar date. */
export function weekdayOf(d: LocalDate): number {
  return (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
}

export function startOfWeek(d: LocalDate): LocalDate {
  return addDays(d, -weekdayOf(d));
}

export function dateKey(d: LocalDate): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

export function parseDateKey(key: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
}

export function sameDate(a: LocalDate, b: LocalDate): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day;
}

/** Where an instant falls in the week that starts on `weekStart` (a Monday) in `tz`. */
export function placeInWeek(
  ms: number,
  weekStart: LocalDate,
  tz: string,
): { day: number; hour: number; minute: number } | null {
  const l = toLocal(ms, tz);
  for (let day = 0; day < 7; day++) {
    if (sameDate(addDays(weekStart, day), l)) return { day, hour: l.hour, minute: l.minute };
  }
  return null;
}

/** The six weeks (Monday first) a month view shows. */
export function monthGrid(year: number, month: number): LocalDate[] {
  const first = startOfWeek({ year, month, day: 1 });
  return Array.from({ length: 42 }, (_, i) => addDays(first, i));
}

/** RFC 3339 with the zone's offset at that instant: 2026-05-01T09:30:00+02:00. */
export function rfc3339InZone(ms: number, tz: string): string {
  const l = toLocal(ms, tz);
  const off = Math.round(offsetMs(ms, tz) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${dateKey(l)}T${p(l.hour)}:${p(l.minute)}:00${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`;
}

/** `HH:MM` of an instant in a zone. */
export function timeLabel(ms: number, tz: string): string {
  const l = toLocal(ms, tz);
  return `${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
