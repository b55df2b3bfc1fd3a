// Calendar placement in a chosen zone, across DST changes in both directions.
import { describe, expect, it } from 'vitest';
import { addDays, fromLocal, monthGrid, placeInWeek, rfc3339InZone, startOfWeek, toLocal } from '../src/tz';

const ms = (iso: string) => Date.parse(iso);

describe('calendar time-zone placement', () => {
  it('places posts at the same wall-clock hour before and after spring-forward in New York', () => {
    // DST starts Sunday 2026-03-08 at 02:00 in America/New_York (UTC-5 → UTC-4).
    const week = startOfWeek({ year: 2026, month: 3, day: 4 });
    expect(week).toEqual({ year: 2026, month: 3, day: 2 });
    const beforeChange = placeInWeek(ms('2026-03-07T14:00:00Z'), week, 'America/New_York');
    const afterChange = placeInWeek(ms('2026-03-08T13:00:00Z'), week, 'America/New_York');
    expect(beforeChange).toEqual({ day: 5, hour: 9, minute: 0 });
    expect(afterChange).toEqual({ day: 6, hour: 9, minute: 0 });
  });

  it('turns a slot in the skipped hour into the first time that exists', () => {
    const sunday = { year: 2026, month: 3, day: 8 };
    expect(new Date(fromLocal(sunday, 2, 30, 'America/New_York')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(toLocal(fromLocal(sunday, 2, 30, 'America/New_York'), 'America/New_York').hour).toBe(3);
  });

  it('takes the first of the two instants in the hour fall-back repeats', () => {
    // Europe/Berlin repeats 02:00–03:00 on 2026-10-25 (UTC+2 → UTC+1).
    const day = { year: 2026, month: 10, day: 25 };
    expect(new Date(fromLocal(day, 2, 30, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(new Date(fromLocal(day, 9, 0, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T08:00:00.000Z');
    expect(new Date(fromLocal(addDays(day, -1), 9, 0, 'Europe/Berlin')).toISOString()).toBe('2026-10-24T07:00:00.000Z');
  });

  it('puts an instant on a different day in a different zone', () => {
    const week = startOfWeek({ year: 2026, month: 6, day: 3 });
    const instant = ms('2026-06-03T23:30:00Z');
    expect(placeInWeek(instant, week, 'UTC')).toEqual({ day: 2, hour: 23, minute: 30 });
    expect(placeInWeek(instant, week, 'Asia/Tokyo')).toEqual({ day: 3, hour: 8, minute: 30 });
    expect(placeInWeek(instant, week, 'America/Los_Angeles')).toEqual({ day: 2, hour: 16, minute: 30 });
    expect(placeInWeek(instant, addDays(week, 7), 'UTC')).toBeNull();
  });

  it('writes RFC 3339 with the offset in force at that instant', () => {
    expect(rfc3339InZone(ms('2026-03-07T14:00:00Z'), 'America/New_York')).toBe('2026-03-07T09:00:00-05:00');
    expect(rfc3339InZone(ms('2026-03-09T13:00:00Z'), 'America/New_York')).toBe('2026-03-09T09:00:00-04:00');
    expect(rfc3339InZone(ms('2026-01-01T00:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-01T05:30:00+05:30');
  });

  it('shows six Monday-first weeks for a month', () => {
    const grid = monthGrid(2026, 2);
    expect(grid).toHaveLength(42);
    expect(grid[0]).toEqual({ year: 2026, month: 1, day: 26 });
    expect(grid[6]).toEqual({ year: 2026, month: 2, day: 1 });
  });
});
