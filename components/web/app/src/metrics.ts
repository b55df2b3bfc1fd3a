// How the analytics pages write numbers: counts in full (a card must read the same as the API
// and the CSV), rates as percentages, and each change against the previous period as it really
// is — a percentage only where there is a non-zero base to take it of.

/** A metric of the overview: this period's value and the previous period's (equal length). */
export interface Metric {
  value?: number | null;
  previous?: number | null;
  changePercent?: number | null;
}

const counts = new Intl.NumberFormat('en-GB');

export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** `12,345`; `—` where there is no value. */
export function formatCount(v: unknown): string {
  const n = finite(v);
  return n === null ? '—' : counts.format(n);
}

/** A ratio as a percentage with two decimals: `0.0312` → `3.12%`. */
export function formatRate(v: unknown): string {
  const n = finite(v);
  return n === null ? '—' : `${(n * 100).toFixed(2)}%`;
}

const arrow = (d: number) => (d > 0 ? '▲' : '▼');

/**
 * The change against the previous period, in words. Counts change by a percentage of the
 * previous value (the API's `changePercent` when it gives one); from zero there is no
 * percentage, so the difference is given instead. Rates change by percentage points.
 */
export function changeText(m: Metric | null | undefined, kind: 'count' | 'rate'): string {
  const value = finite(m?.value);
  const previous = finite(m?.previous);
  if (value === null || previous === null) return 'no earlier period to compare';
  if (kind === 'rate') {
    const points = (value - previous) * 100;
    if (Math.abs(points) < 0.005) return `no change vs previous period (${formatRate(previous)})`;
    return `${arrow(points)} ${Math.abs(points).toFixed(2)} pts vs previous period (${formatRate(previous)})`;
  }
  const diff = value - previous;
  if (diff === 0) return `no change vs previous period (${formatCount(previous)})`;
  if (previous === 0) return `${arrow(diff)} ${formatCount(Math.abs(diff))} ${diff > 0 ? 'more' : 'fewer'} than the previous period (0)`;
  const percent = finite(m?.changePercent) ?? (diff * 100) / Math.abs(previous);
  return `${arrow(diff)} ${Math.abs(percent).toFixed(1)}% vs previous period (${formatCount(previous)})`;
}

/** The heatmap's shade (0 = no posts, 1–4 = median lift up to ≥ 2×). */
export function heatLevel(lift: unknown): number {
  const l = finite(lift);
  return l === null ? 0 : Math.min(4, Math.max(1, Math.round(l * 2)));
}
