// Small shared pieces: labelled fields with their error, alerts, status badges, dates.
import type { ComponentChildren } from 'preact';
import { toLocal } from './tz';

interface FieldProps {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}

/** A label, the control, a hint and the field's error, tied together for screen readers. */
export function Field({ id, label, error, hint, children }: FieldProps) {
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** aria attributes of a control that belongs to a Field. */
export function described(id: string, error?: string, hint?: string): Record<string, unknown> {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined };
}

export function Alert({ kind = 'error', children }: { kind?: 'error' | 'ok' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status.replace('_', ' ')}</span>;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** "Mon 9 Mar, 09:30" in the given zone. */
export function formatInstant(iso: string | null | undefined, tz: string): string {
  if (!iso) return '—';
  let f = dateFormats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dateFormats.set(tz, f);
  }
  return f.format(new Date(iso));
}

export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as Error).message);
  return 'Something went wrong.';
}

/** `YYYY-MM-DD` and `HH:MM` of an instant in a zone (for date and time inputs). */
export function inputsFor(ms: number, tz: string): { date: string; time: string } {
  const l = toLocal(ms, tz);
  const p = (n: number) => String(n).padStart(2, '0');
  return { date: `${l.year}-${p(l.month)}-${p(l.day)}`, time: `${p(l.hour)}:${p(l.minute)}` };
}

export const COMMON_ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Tokyo',
  'Asia/Singapore',
  'Asia/Kolkata',
  'Australia/Sydney',
];

export function zoneOptions(extra: string[]): string[] {
  return [...new Set([...extra.filter(Boolean), ...COMMON_ZONES])];
}
