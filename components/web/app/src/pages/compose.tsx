import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as api from '../api';
import { navigate, useLocation } from '../router';
import { can, useApp, type Account } from '../state';
import { analyze, MAX_WEIGHTED_LENGTH } from '../text';
import { fromLocal, parseDateKey, rfc3339InZone, browserZone } from '../tz';
import { Alert, described, Field, formatInstant, inputsFor, Loading } from '../ui';

interface Media {
  key: string;
  id: string | null;
  name: string;
  preview: string | null;
  progress: number;
  error: string;
}

interface Part {
  key: string;
  text: string;
  media: Media[];
}

let keySeq = 0;
const newKey = () => `k${++keySeq}`;
const emptyPart = (): Part => ({ key: newKey(), text: '', media: [] });

type When = 'draft' | 'at' | 'queue';

/** Thread position → the API's field prefix: the head is top-level, the rest `thread[i]`. */
function fieldFor(index: number, field: 'content' | 'mediaIds'): string {
  return index === 0 ? field : `thread[${index - 1}].${field}`;
}

/** An X post id from an id or a post URL. */
function postIdFrom(input: string): string {
  const m = /status\/(\d+)/.exec(input);
  return m ? m[1] : input.trim();
}

export function ComposePage() {
  const state = useApp();
  const loc = useLocation();
  const editId = loc.query.get('edit');
  const atParam = loc.query.get('at');
  const usable = state.accounts.filter((a) => a.status !== 'suspended');
  const [accountId, setAccountId] = useState('');
  const [parts, setParts] = useState<Part[]>([emptyPart()]);
  const [pollOn, setPollOn] = useState(false);
  const [pollOptions, setPollOptions] = useState(['', '']);
  const [pollMinutes, setPollMinutes] = useState(1440);
  const [replyTo, setReplyTo] = useState('');
  const [quoteOf, setQuoteOf] = useState('');
  const [when, setWhen] = useState<When>('at');
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const [loading, setLoading] = useState(Boolean(editId));
  const focusKey = useRef<string | null>(null);
  const timeTouched = useRef(false);

  const account: Account | undefined = usable.find((a) => a.id === accountId);
  const zone = account?.timezone ?? browserZone();

  useEffect(() => {
    if (!accountId && usable.length > 0) setAccountId(usable[0].id);
  }, [usable.length]);

  // Default time: the slot clicked on the calendar, or the next full hour.
  useEffect(() => {
    if (editId || timeTouched.current) return;
    const at = atParam ? Date.parse(atParam) : Math.ceil((Date.now() + 5 * 60_000) / 3_600_000) * 3_600_000;
    const v = inputsFor(Number.isFinite(at) ? at : Date.now(), zone);
    setDate(v.date);
    setTime(v.time);
  }, [zone]);

  useEffect(() => {
    if (!editId) return;
    api
      .api('GET', `/api/tweets/${editId}`)
      .then((p: any) => {
        const mediaOf = (ids: string[] | null): Media[] =>
          (ids ?? []).map((id) => ({ key: newKey(), id, name: `Media ${id}`, preview: null, progress: 1, error: '' }));
        setAccountId(p.account?.id ?? '');
        setParts([
          { key: newKey(), text: p.content, media: mediaOf(p.mediaIds) },
          ...(p.thread ?? []).map((t: any) => ({ key: newKey(), text: t.content, media: mediaOf(t.mediaIds) })),
        ]);
        if (p.poll) {
          setPollOn(true);
          setPollOptions(p.poll.options);
          setPollMinutes(p.poll.durationMinutes);
        }
        setReplyTo(p.replyTo ?? '');
        setQuoteOf(p.quoteOf ?? '');
        if (p.scheduledAt) {
          const tz = state.accounts.find((a) => a.id === p.account?.id)?.timezone ?? browserZone();
          const v = inputsFor(Date.parse(p.scheduledAt), tz);
          setDate(v.date);
          setTime(v.time);
          setWhen('at');
        } else setWhen('draft');
      })
      .catch((e) => setFormError(e.message))
      .finally(() => setLoading(false));
  }, [editId]);

  useEffect(() => {
    if (focusKey.current) {
      document.getElementById(`part-${focusKey.current}`)?.focus();
      focusKey.current = null;
    }
  });

  if (!can(state, 'editor')) {
    return (
      <section>
        <h1>Compose</h1>
        <Alert kind="info">Your role in this workspace is viewer: you can read posts but not write them.</Alert>
      </section>
    );
  }
  if (loading || !state.accountsLoaded) return <Loading what={loading ? 'the post' : 'accounts'} />;
  if (state.accounts.length === 0) {
    return (
      <section>
        <h1>Compose</h1>
        <Alert kind="info">
          Connect an X account first: <a href="/accounts">Accounts</a>.
        </Alert>
      </section>
    );
  }

  const update = (key: string, change: (p: Part) => Part) => setParts((ps) => ps.map((p) => (p.key === key ? change(p) : p)));
  const move = (index: number, by: number) =>
    setParts((ps) => {
      const next = [...ps];
      const [p] = next.splice(index, 1);
      next.splice(index + by, 0, p);
      focusKey.current = p.key;
      return next;
    });

  async function addMedia(part: Part, files: FileList | null) {
    if (!files || !accountId) return;
    for (const file of Array.from(files)) {
      const m: Media = { key: newKey(), id: null, name: file.name, preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null, progress: 0, error: '' };
      update(part.key, (p) => ({ ...p, media: [...p.media, m] }));
      const set = (change: Partial<Media>) =>
        update(part.key, (p) => ({ ...p, media: p.media.map((x) => (x.key === m.key ? { ...x, ...change } : x)) }));
      try {
        const data = await api.upload(`/api/media?accountId=${encodeURIComponent(accountId)}`, file, (f) => set({ progress: f }));
        set({ id: data.mediaId, progress: 1 });
      } catch (e) {
        set({ error: e instanceof Error ? e.message : 'Upload failed', progress: 0 });
      }
    }
  }

  async function submit(ev: Event) {
    ev.preventDefault();
    setErrors({});
    setFormError('');
    const [head, ...rest] = parts;
    const ids = (p: Part) => p.media.filter((m) => m.id).map((m) => m.id as string);
    const body: any = { content: head.text, accountId };
    if (ids(head).length) body.mediaIds = ids(head);
    if (rest.length) body.thread = rest.map((p) => ({ content: p.text, ...(ids(p).length ? { mediaIds: ids(p) } : {}) }));
    if (pollOn) body.poll = { options: pollOptions.map((o) => o.trim()), durationMinutes: pollMinutes };
    if (replyTo.trim()) body.replyTo = postIdFrom(replyTo);
    if (quoteOf.trim()) body.quoteOf = postIdFrom(quoteOf);
    if (when === 'draft') body.status = 'draft';
    else if (when === 'queue') body.queue = true;
    else {
      const d = parseDateKey(date);
      const t = /^(\d{2}):(\d{2})$/.exec(time);
      if (!d || !t) {
        setErrors({ scheduledAt: 'Pick a date and a time.' });
        return;
      }
      body.scheduledAt = rfc3339InZone(fromLocal(d, Number(t[1]), Number(t[2]), zone), zone);
    }
    if (parts.some((p) => p.media.some((m) => !m.id && !m.error))) {
      setFormError('Wait for the uploads to finish.');
      return;
    }
    setBusy(true);
    try {
      const saved = editId ? await api.api('PUT', `/api/tweets/${editId}`, body) : await api.api('POST', '/api/tweets', body);
      const at = saved.scheduledAt as string | null;
      state.notify(at ? `Scheduled for ${formatInstant(at, zone)} (${zone})` : 'Saved as a draft');
      navigate(at ? `/calendar?date=${inputsFor(Date.parse(at), zone).date}` : '/posts?status=draft');
    } catch (e) {
      if (e instanceof api.ApiError) {
        const fields = e.fields();
        setErrors(fields);
        const n = Object.keys(fields).length;
        setFormError(n > 0 ? `${e.message} — fix the ${n === 1 ? 'problem' : `${n} problems`} marked below.` : e.message);
      } else setFormError('Something went wrong.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="compose">
      <h1>{editId ? 'Edit post' : 'Compose'}</h1>
      <form onSubmit={submit} noValidate>
        {formError && <Alert>{formError}</Alert>}
        <Field id="compose-account" label="Account" error={errors.accountId}>
          <select {...described('compose-account', errors.accountId)} value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)}>
            {usable.map((a) => (
              <option key={a.id} value={a.id}>
                @{a.username}
                {a.status !== 'active' ? ` (${a.status.replace('_', ' ')})` : ''}
              </option>
            ))}
          </select>
        </Field>

        <ol class="thread" aria-label="Thread">
          {parts.map((part, i) => (
            <PartEditor
              key={part.key}
              part={part}
              index={i}
              count={parts.length}
              errors={errors}
              onText={(text) => update(part.key, (p) => ({ ...p, text }))}
              onMove={(by) => move(i, by)}
              onRemove={() => setParts((ps) => ps.filter((p) => p.key !== part.key))}
              onFiles={(files) => void addMedia(part, files)}
              onRemoveMedia={(key) => update(part.key, (p) => ({ ...p, media: p.media.filter((m) => m.key !== key) }))}
            />
          ))}
        </ol>
        <button
          type="button"
          class="secondary"
          disabled={parts.length >= 25}
          onClick={() => {
            const p = emptyPart();
            focusKey.current = p.key;
            setParts((ps) => [...ps, p]);
          }}
        >
          + Add to thread
        </button>

        <fieldset class="options">
          <legend>Options</legend>
          <label class="check">
            <input type="checkbox" checked={pollOn} onChange={(e) => setPollOn(e.currentTarget.checked)} /> Add a poll to the first post
          </label>
          {pollOn && (
            <div class="poll">
              {errors['poll.options'] && (
                <p class="field-error" role="alert">
                  {errors['poll.options']}
                </p>
              )}
              {pollOptions.map((o, i) => (
                <Field key={i} id={`poll-option-${i}`} label={`Choice ${i + 1}`} error={errors[`poll.options[${i}]`]}>
                  <div class="row">
                    <input
                      {...described(`poll-option-${i}`, errors[`poll.options[${i}]`])}
                      maxLength={25}
                      value={o}
                      onInput={(e) => {
                        const v = e.currentTarget.value;
                        setPollOptions((os) => os.map((x, j) => (j === i ? v : x)));
                      }}
                    />
                    {pollOptions.length > 2 && (
                      <button type="button" class="secondary small" onClick={() => setPollOptions((os) => os.filter((_, j) => j !== i))}>
                        Remove choice {i + 1}
                      </button>
                    )}
                  </div>
                </Field>
              ))}
              {pollOptions.length < 4 && (
                <button type="button" class="secondary small" onClick={() => setPollOptions((os) => [...os, ''])}>
                  + Add a choice
                </button>
              )}
              <Field id="poll-duration" label="Poll length" error={errors['poll.durationMinutes']}>
                <select {...described('poll-duration', errors['poll.durationMinutes'])} value={pollMinutes} onChange={(e) => setPollMinutes(Number(e.currentTarget.value))}>
                  <option value={60}>1 hour</option>
                  <option value={360}>6 hours</option>
                  <option value={1440}>1 day</option>
                  <option value={4320}>3 days</option>
                  <option value={10080}>7 days</option>
                </select>
              </Field>
            </div>
          )}
          <div class="row wrap">
            <Field id="compose-reply" label="Reply to (post URL or id)" error={errors.replyTo}>
              <input {...described('compose-reply', errors.replyTo)} value={replyTo} onInput={(e) => setReplyTo(e.currentTarget.value)} />
            </Field>
            <Field id="compose-quote" label="Quote (post URL or id)" error={errors.quoteOf}>
              <input {...described('compose-quote', errors.quoteOf)} value={quoteOf} onInput={(e) => setQuoteOf(e.currentTarget.value)} />
            </Field>
          </div>
        </fieldset>

        <fieldset class="when">
          <legend>When</legend>
          <label class="check">
            <input type="radio" name="when" checked={when === 'at'} onChange={() => setWhen('at')} /> Schedule at a time
          </label>
          <label class="check">
            <input type="radio" name="when" checked={when === 'queue'} onChange={() => setWhen('queue')} /> Add to queue (next free posting slot)
          </label>
          <label class="check">
            <input type="radio" name="when" checked={when === 'draft'} onChange={() => setWhen('draft')} /> Save as draft
          </label>
          {when === 'at' && (
            <div class="row wrap">
              <Field id="compose-date" label={`Date (${zone})`} error={errors.scheduledAt}>
                <input {...described('compose-date', errors.scheduledAt)} type="date" value={date} onInput={(e) => {
                    timeTouched.current = true;
                    setDate(e.currentTarget.value);
                  }} />
              </Field>
              <Field id="compose-time" label={`Time (${zone})`}>
                <input id="compose-time" type="time" value={time} onInput={(e) => {
                    timeTouched.current = true;
                    setTime(e.currentTarget.value);
                  }} />
              </Field>
            </div>
          )}
        </fieldset>

        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : when === 'draft' ? 'Save draft' : when === 'queue' ? 'Add to queue' : editId ? 'Save and schedule' : 'Schedule'}
          </button>
          <a class="button secondary" href={editId ? `/posts/${editId}` : '/calendar'}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

interface PartProps {
  part: Part;
  index: number;
  count: number;
  errors: Record<string, string>;
  onText: (t: string) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
  onFiles: (f: FileList | null) => void;
  onRemoveMedia: (key: string) => void;
}

function PartEditor({ part, index, count, errors, onText, onMove, onRemove, onFiles, onRemoveMedia }: PartProps) {
  const report = useMemo(() => analyze(part.text), [part.text]);
  const id = `part-${part.key}`;
  const textError = errors[fieldFor(index, 'content')];
  const mediaError = errors[fieldFor(index, 'mediaIds')];
  const over = report.remaining < 0;
  const label = count > 1 ? `Post ${index + 1} of ${count}` : 'Post text';
  return (
    <li class="part">
      <Field id={id} label={label} error={textError}>
        <textarea {...described(id, textError)} rows={4} value={part.text} onInput={(e) => onText(e.currentTarget.value)} />
      </Field>
      <div class="part-bar">
        <span class={`counter${over ? ' over' : report.remaining <= 20 ? ' near' : ''}`} aria-live="polite" data-testid="counter">
          {report.weightedLength}/{MAX_WEIGHTED_LENGTH}
          <span class="visually-hidden"> weighted characters{over ? `, ${-report.remaining} over the limit` : ''}</span>
        </span>
        <label class="button secondary small file">
          Add media
          <input type="file" accept="image/jpeg,image/png,image/webp,image/gif,video/mp4" multiple onChange={(e) => onFiles(e.currentTarget.files)} aria-label={`Add media to post ${index + 1}`} />
        </label>
        {count > 1 && (
          <>
            <button type="button" class="secondary small" disabled={index === 0} onClick={() => onMove(-1)} aria-label={`Move post ${index + 1} up`}>
              ↑
            </button>
            <button type="button" class="secondary small" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={`Move post ${index + 1} down`}>
              ↓
            </button>
            <button type="button" class="danger small" onClick={onRemove} aria-label={`Remove post ${index + 1}`}>
              Remove
            </button>
          </>
        )}
      </div>
      {mediaError && (
        <p class="field-error" role="alert">
          {mediaError}
        </p>
      )}
      {part.media.length > 0 && (
        <ul class="media-list" aria-label={`Media of post ${index + 1}`}>
          {part.media.map((m) => (
            <li key={m.key} class="media">
              {m.preview ? <img src={m.preview} alt={`Preview of ${m.name}`} /> : <span class="media-name">{m.name}</span>}
              {!m.id && !m.error && <progress max={1} value={m.progress} aria-label={`Uploading ${m.name}`} />}
              {m.id && <span class="media-ok">Uploaded</span>}
              {m.error && <span class="field-error">{m.error}</span>}
              <button type="button" class="secondary small" onClick={() => onRemoveMedia(m.key)} aria-label={`Remove ${m.name}`}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
