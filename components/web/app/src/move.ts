// The calendar's keyboard alternative to dragging, and where a post started from an empty
// slot goes. Pure functions of positions and instants, so that the rules are unit-tested.

export type View = 'week' | 'month';

/** A post's place while it is being moved: the index of its day among the days shown, and its
 * wall-clock hour and minute (kept as the post had them; only the slot changes). */
export interface GridPos {
  index: number;
  hour: number;
  minute: number;
}

/** What an arrow key does to a post being moved: a new place, or `edge` where the calendar
 * shown ends (the post stays where it was). */
export type Step = { pos: GridPos } | { edge: true };

/**
 * One arrow key. In the week view Up and Down change the hour and Left and Right the day; in
 * the month view Left and Right change the day and Up and Down the week. `null` for any other
 * key. Moves stay within the `count` days shown.
 */
export function step(pos: GridPos, key: string, view: View, count: number): Step | null {
  let { index, hour } = pos;
  if (key === 'ArrowLeft') index -= 1;
  else if (key === 'ArrowRight') index += 1;
  else if (key === 'ArrowUp' && view === 'week') hour -= 1;
  else if (key === 'ArrowDown' && view === 'week') hour += 1;
  else if (key === 'ArrowUp') index -= 7;
  else if (key === 'ArrowDown') index += 7;
  else return null;
  if (index < 0 || index >= count || hour < 0 || hour > 23) return { edge: true };
  return { pos: { index, hour, minute: pos.minute } };
}

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
/** A post started from the calendar is at least this far ahead, for the time it takes to write. */
export const LEAD_MS = 5 * MINUTE;

/**
 * When a new post started from an empty slot (`start` ≤ t < `end`) goes out: the slot's start,
 * or, in the slot that holds now, the next quarter hour at least five minutes ahead. `null` for
 * a slot that is over (nothing can be scheduled in the past).
 */
export function newPostAt(start: number, end: number, now: number): number | null {
  if (end <= now) return null;
  if (start >= now + LEAD_MS) return start;
  return Math.ceil((now + LEAD_MS) / QUARTER) * QUARTER;
}

/** The hour a post started from a day of the month view is set to (then `newPostAt`). */
export const MONTH_DEFAULT_HOUR = 9;
