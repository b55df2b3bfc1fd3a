import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { useLocation } from '../router';
import { can, useApp, type Account } from '../state';
import { browserZone, isValidZone } from '../tz';
import { Alert, described, Empty, Field, formatInstant, Loading, StatusBadge, zoneOptions } from '../ui';

async function connect(notify: (m: string, k?: 'ok' | 'error') => void) {
  try {
    const data = await api.api('POST', '/api/accounts/connect', {});
    location.assign(data.authorizeUrl);
  } catch (e) {
    notify(e instanceof Error ? e.message : 'Could not start connecting', 'error');
  }
}

export function AccountsPage() {
  const state = useApp();
  const loc = useLocation();
  const admin = can(state, 'admin');
  const [loaded, setLoaded] = useState(false);
  const status = loc.query.get('status');
  useEffect(() => {
    state.reloadAccounts().finally(() => setLoaded(true));
  }, []);
  return (
    <section>
      <div class="page-head">
        <h1>Accounts</h1>
        {admin && (
          <button type="button" onClick={() => connect(state.notify)}>
            Connect an X account
          </button>
        )}
      </div>
      {status === 'connected' && <Alert kind="ok">The account is connected.</Alert>}
      {status === 'error' && <Alert>X did not connect the account ({loc.query.get('code') ?? 'unknown error'}). Try again.</Alert>}
      {!loaded ? (
        <Loading what="accounts" />
      ) : state.accounts.length === 0 ? (
        <Empty>
          No X accounts yet.
          {admin ? ' Connect one to start scheduling.' : ' Ask an admin of this workspace to connect one.'}
        </Empty>
      ) : (
        <ul class="cards">
          {state.accounts.map((a) => (
            <AccountCard key={a.id} account={a} admin={admin} />
          ))}
        </ul>
      )}
    </section>
  );
}

function AccountCard({ account: a, admin }: { account: Account; admin: boolean }) {
  const state = useApp();
  const [health, setHealth] = useState<any | null>(null);
  const [healthError, setHealthError] = useState('');
  useEffect(() => {
    api
      .api('GET', `/api/accounts/${a.id}/health`)
      .then(setHealth)
      .catch((e) => setHealthError(e.message));
  }, [a.id, a.status]);
  const needsReauth = a.status === 'needs_reauth';
  const breaker = health?.circuit?.account;
  const breakerState = typeof breaker === 'string' ? breaker : breaker?.state;
  return (
    <li class={`card account${needsReauth ? ' attention' : ''}`}>
      <div class="card-head">
        <h2>@{a.username}</h2>
        <StatusBadge status={a.status} />
      </div>
      {a.label && <p>{a.label}</p>}
      <dl class="facts">
        <dt>Time zone</dt>
        <dd>{a.timezone}</dd>
        <dt>Posting slots</dt>
        <dd>{a.postingSlots?.length ? `${a.postingSlots.length} a week` : 'none'}</dd>
        <dt>Token</dt>
        <dd>{health ? `${health.token?.state ?? '—'}${health.token?.expiresAt ? `, expires ${formatInstant(health.token.expiresAt, browserZone())}` : ''}` : healthError ? 'unknown' : '…'}</dd>
        <dt>Circuit breaker</dt>
        <dd>{breakerState ?? (health ? 'closed' : '…')}</dd>
        {health?.rateLimits && Object.keys(health.rateLimits).length > 0 && (
          <>
            <dt>X budgets</dt>
            <dd>
              {Object.entries(health.rateLimits)
                .slice(0, 4)
                .map(([k, v]: [string, any]) => {
                  const w = v?.main ?? v?.user24 ?? v;
                  return `${k}: ${w?.remaining ?? '?'} of ${w?.limit ?? '?'} left`;
                })
                .join(', ')}
            </dd>
          </>
        )}
        {health?.recentFailures?.length > 0 && (
          <>
            <dt>Recent failures</dt>
            <dd class="reason">{health.recentFailures.length} in the last days</dd>
          </>
        )}
        {a.lastError && (
          <>
            <dt>Last error</dt>
            <dd class="reason">
              {a.lastError} ({formatInstant(a.lastErrorAt, browserZone())})
            </dd>
          </>
        )}
      </dl>
      {needsReauth && <p class="reason">X no longer accepts this account's token. Reconnect it to keep publishing.</p>}
      <div class="actions">
        {admin && needsReauth && (
          <button type="button" onClick={() => connect(state.notify)}>
            Reconnect @{a.username}
          </button>
        )}
        {admin && (
          <a class="button secondary" href={`/accounts/${a.id}`}>
            Settings for @{a.username}
          </a>
        )}
      </div>
    </li>
  );
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export function AccountSettingsPage({ id }: { id: string }) {
  const state = useApp();
  const admin = can(state, 'admin');
  const [account, setAccount] = useState<Account | null>(null);
  const [label, setLabel] = useState('');
  const [timezone, setTimezone] = useState('');
  const [slots, setSlots] = useState<Array<{ day: string; time: string }>>([]);
  const [paused, setPaused] = useState(false);
  const [cap, setCap] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .api('GET', `/api/accounts/${id}`)
      .then((data) => {
        const a: Account = data.account ?? data;
        setAccount(a);
        setLabel(a.label ?? '');
        setTimezone(a.timezone);
        setSlots(a.postingSlots ?? []);
        setPaused(a.status === 'paused');
        setCap(a.dailyPostCap ? String(a.dailyPostCap) : '');
      })
      .catch((e) => setFormError(e.message));
  }, [id]);

  if (!account) return formError ? <Alert>{formError}</Alert> : <Loading what="the account" />;

  async function save(ev: Event) {
    ev.preventDefault();
    setErrors({});
    setFormError('');
    if (!isValidZone(timezone)) {
      setErrors({ timezone: 'Not a time zone this browser knows (use an IANA name such as Europe/Paris).' });
      return;
    }
    setBusy(true);
    try {
      await api.api('PATCH', `/api/accounts/${id}`, {
        label: label.trim() || null,
        timezone,
        postingSlots: slots,
        paused,
        dailyPostCap: cap ? Number(cap) : null,
      });
      await state.reloadAccounts();
      state.notify('Settings saved');
    } catch (e) {
      if (e instanceof api.ApiError) {
        setErrors(e.fields());
        setFormError(e.message);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section>
      <h1>Settings for @{account.username}</h1>
      {!admin && <Alert kind="info">Only admins and owners change account settings.</Alert>}
      <form onSubmit={save} noValidate>
        {formError && <Alert>{formError}</Alert>}
        <fieldset disabled={!admin}>
          <Field id="account-label" label="Label" error={errors.label}>
            <input {...described('account-label', errors.label)} maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
          </Field>
          <Field id="account-timezone" label="Time zone" error={errors.timezone} hint="Posting slots and scheduled times are in this zone.">
            <input {...described('account-timezone', errors.timezone, 'hint')} list="zones" value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
            <datalist id="zones">
              {zoneOptions([timezone]).map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </Field>
          <fieldset class="slots">
            <legend>Posting slots (the queue fills these, in {timezone || 'the account zone'})</legend>
            {errors.postingSlots && (
              <p class="field-error" role="alert">
                {errors.postingSlots}
              </p>
            )}
            {slots.length === 0 && <p class="hint">No slots yet: posts added to the queue need at least one.</p>}
            <ul>
              {slots.map((s, i) => (
                <li key={i} class="row">
                  <label for={`slot-day-${i}`} class="visually-hidden">
                    Day of slot {i + 1}
                  </label>
                  <select id={`slot-day-${i}`} value={s.day} onChange={(e) => setSlots(slots.map((x, j) => (j === i ? { ...x, day: e.currentTarget.value } : x)))}>
                    {DAYS.map((d) => (
                      <option key={d} value={d}>
                        {d}
                      </option>
                    ))}
                  </select>
                  <label for={`slot-time-${i}`} class="visually-hidden">
                    Time of slot {i + 1}
                  </label>
                  <input id={`slot-time-${i}`} type="time" value={s.time} onInput={(e) => setSlots(slots.map((x, j) => (j === i ? { ...x, time: e.currentTarget.value } : x)))} />
                  <button type="button" class="secondary small" onClick={() => setSlots(slots.filter((_, j) => j !== i))} aria-label={`Remove slot ${i + 1}`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
            <div class="row wrap">
              <button type="button" class="secondary small" onClick={() => setSlots([...slots, { day: 'mon', time: '09:00' }])}>
                + Add a slot
              </button>
              <button
                type="button"
                class="secondary small"
                onClick={() => setSlots(DAYS.slice(0, 5).flatMap((day) => ['09:00', '13:00', '17:00'].map((time) => ({ day, time }))))}
              >
                Weekdays at 9, 13 and 17
              </button>
            </div>
          </fieldset>
          <label class="check">
            <input type="checkbox" checked={paused} onChange={(e) => setPaused(e.currentTarget.checked)} /> Paused (nothing is published while paused)
          </label>
          <Field id="account-cap" label="Daily post cap (empty: no cap)" error={errors.dailyPostCap}>
            <input {...described('account-cap', errors.dailyPostCap)} type="number" min={1} max={2400} value={cap} onInput={(e) => setCap(e.currentTarget.value)} />
          </Field>
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </fieldset>
      </form>
    </section>
  );
}
