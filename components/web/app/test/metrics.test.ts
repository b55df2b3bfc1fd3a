// The analytics cards' numbers and their change against the previous period.
import { describe, expect, it } from 'vitest';
import { changeText, formatCount, formatRate, heatLevel } from '../src/metrics';

describe('analytics numbers', () => {
  it('writes counts in full and rates as percentages, and a dash where there is nothing', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(null)).toBe('—');
    expect(formatCount(Number.NaN)).toBe('—');
    expect(formatRate(0.03125)).toBe('3.13%');
    expect(formatRate(undefined)).toBe('—');
  });

  it('gives the change of a count as a percentage of the previous period, preferring the API’s', () => {
    expect(changeText({ value: 150, previous: 100, changePercent: 50 }, 'count')).toBe('▲ 50.0% vs previous period (100)');
    expect(changeText({ value: 150, previous: 100 }, 'count')).toBe('▲ 50.0% vs previous period (100)');
    expect(changeText({ value: 12_000, previous: 16_000, changePercent: -25 }, 'count')).toBe('▼ 25.0% vs previous period (16,000)');
    // A negative base (followers lost before): the percentage is of its size.
    expect(changeText({ value: 5, previous: -10 }, 'count')).toBe('▲ 150.0% vs previous period (-10)');
  });

  it('gives the difference, not a percentage, when the previous period had none', () => {
    expect(changeText({ value: 7, previous: 0, changePercent: null }, 'count')).toBe('▲ 7 more than the previous period (0)');
    expect(changeText({ value: -3, previous: 0 }, 'count')).toBe('▼ 3 fewer than the previous period (0)');
    expect(changeText({ value: 0, previous: 0 }, 'count')).toBe('no change vs previous period (0)');
  });

  it('says so when there is nothing to compare with', () => {
    expect(changeText({ value: 3, previous: null }, 'count')).toBe('no earlier period to compare');
    expect(changeText({ value: null, previous: 0.02 }, 'rate')).toBe('no earlier period to compare');
    expect(changeText(undefined, 'count')).toBe('no earlier period to compare');
  });

  it('gives the change of a rate in percentage points', () => {
    expect(changeText({ value: 0.035, previous: 0.03 }, 'rate')).toBe('▲ 0.50 pts vs previous period (3.00%)');
    expect(changeText({ value: 0.02, previous: 0.03 }, 'rate')).toBe('▼ 1.00 pts vs previous period (3.00%)');
    expect(changeText({ value: 0.03, previous: 0.03 }, 'rate')).toBe('no change vs previous period (3.00%)');
  });

  it('shades a heatmap cell by its median lift', () => {
    expect(heatLevel(null)).toBe(0);
    expect(heatLevel(0)).toBe(1);
    expect(heatLevel(1)).toBe(2);
    expect(heatLevel(1.5)).toBe(3);
    expect(heatLevel(7)).toBe(4);
  });
});
