// Moving a post on the calendar with the arrow keys, and the time of a post started from a slot.
import { describe, expect, it } from 'vitest';
import { newPostAt, step } from '../src/move';

const at = { index: 2, hour: 10, minute: 17 };

describe('moving a post with the arrow keys', () => {
  it('moves by an hour up and down and by a day left and right in the week view, keeping the minute', () => {
    expect(step(at, 'ArrowDown', 'week', 7)).toEqual({ pos: { index: 2, hour: 11, minute: 17 } });
    expect(step(at, 'ArrowUp', 'week', 7)).toEqual({ pos: { index: 2, hour: 9, minute: 17 } });
    expect(step(at, 'ArrowLeft', 'week', 7)).toEqual({ pos: { index: 1, hour: 10, minute: 17 } });
    expect(step(at, 'ArrowRight', 'week', 7)).toEqual({ pos: { index: 3, hour: 10, minute: 17 } });
  });

  it('moves by a day left and right and by a week up and down in the month view', () => {
    const m = { index: 10, hour: 10, minute: 0 };
    expect(step(m, 'ArrowDown', 'month', 42)).toEqual({ pos: { index: 17, hour: 10, minute: 0 } });
    expect(step(m, 'ArrowUp', 'month', 42)).toEqual({ pos: { index: 3, hour: 10, minute: 0 } });
    expect(step(m, 'ArrowRight', 'month', 42)).toEqual({ pos: { index: 11, hour: 10, minute: 0 } });
  });

  it('stops at the edges of what is shown', () => {
    expect(step({ index: 0, hour: 10, minute: 0 }, 'ArrowLeft', 'week', 7)).toEqual({ edge: true });
    expect(step({ index: 6, hour: 10, minute: 0 }, 'ArrowRight', 'week', 7)).toEqual({ edge: true });
    expect(step({ index: 3, hour: 0, minute: 0 }, 'ArrowUp', 'week', 7)).toEqual({ edge: true });
    expect(step({ index: 3, hour: 23, minute: 0 }, 'ArrowDown', 'week', 7)).toEqual({ edge: true });
    expect(step({ index: 3, hour: 9, minute: 0 }, 'ArrowUp', 'month', 42)).toEqual({ edge: true });
    expect(step({ index: 38, hour: 9, minute: 0 }, 'ArrowDown', 'month', 42)).toEqual({ edge: true });
  });

  it('leaves other keys alone', () => {
    expect(step(at, 'Enter', 'week', 7)).toBeNull();
    expect(step(at, 'a', 'month', 42)).toBeNull();
  });
});

describe('a new post from an empty slot', () => {
  const hour = 3_600_000;
  const now = Date.parse('2026-05-04T10:37:00Z');

  it('starts at the slot when the slot is ahead', () => {
    const start = Date.parse('2026-05-04T14:00:00Z');
    expect(newPostAt(start, start + hour, now)).toBe(start);
  });

  it('starts at the next quarter hour at least five minutes ahead in the slot that holds now', () => {
    const start = Date.parse('2026-05-04T10:00:00Z');
    expect(new Date(newPostAt(start, start + hour, now)!).toISOString()).toBe('2026-05-04T10:45:00.000Z');
    const late = Date.parse('2026-05-04T10:41:00Z');
    expect(new Date(newPostAt(start, start + hour, late)!).toISOString()).toBe('2026-05-04T11:00:00.000Z');
    // A slot that starts in less than five minutes is treated the same way.
    const soon = Date.parse('2026-05-04T10:57:00Z');
    expect(new Date(newPostAt(start + hour, start + 2 * hour, soon)!).toISOString()).toBe('2026-05-04T11:15:00.000Z');
  });

  it('offers nothing in a slot that is over', () => {
    const start = Date.parse('2026-05-04T09:00:00Z');
    expect(newPostAt(start, start + hour, now)).toBeNull();
  });
});
