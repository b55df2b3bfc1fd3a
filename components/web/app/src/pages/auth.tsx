import { useState } from 'preact/hooks';
import * as api from '../api';
import { linkHandler, navigate } from '../router';
import { Alert, described, Field } from '../ui';

function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/calendar';
}

function useForm() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<void>) {
    setBusy(true);
    setErrors({});
    setFormError('');
    // Read before signing in: the signed-in app rewrites the address.
    const next = nextPath();
    try {
      await action();
      navigate(next, true);
    } catch (e) {
      if (e instanceof api.ApiError) {
        const fields = e.fields();
        setErrors(fields);
        if (Object.keys(fields).length === 0) setFormError(messageFor(e));
      } else setFormError('Something went wrong. Try again.');
    } finally {
      setBusy(false);
    }
  }
  return { errors, formError, busy, run };
}

function messageFor(e: api.ApiError): string {
  if (e.type === 'AUTHENTICATION_ERROR') return 'That email and password do not match an account.';
  if (e.type === 'RATE_LIMIT_ERROR') return 'Too many attempts. Wait a few minutes and try again.';
  if (e.type === 'CONFLICT') return 'An account with this email already exists. Log in instead.';
  return e.message;
}

export function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { errors, formError, busy, run } = useForm();
  const expired = new URLSearchParams(location.search).get('expired');
  return (
    <main class="auth-page" id="main" onClick={linkHandler as any}>
      <form
        class="auth-card"
        aria-labelledby="login-title"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.login(email.trim(), password));
        }}
      >
        <p class="brand">xmp</p>
        <h1 id="login-title">Log in</h1>
        {expired && !formError && <Alert kind="info">Your session ended. Log in again to carry on.</Alert>}
        {formError && <Alert>{formError}</Alert>}
        <Field id="login-email" label="Email" error={errors.email}>
          <input {...described('login-email', errors.email)} type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field id="login-password" label="Password" error={errors.password}>
          <input {...described('login-password', errors.password)} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p>
          New here? <a href={`/register${location.search}`}>Create an account</a>
        </p>
      </form>
    </main>
  );
}

export function RegisterPage() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { errors, formError, busy, run } = useForm();
  return (
    <main class="auth-page" id="main" onClick={linkHandler as any}>
      <form
        class="auth-card"
        aria-labelledby="register-title"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.register(name.trim(), email.trim(), password));
        }}
      >
        <p class="brand">xmp</p>
        <h1 id="register-title">Create your account</h1>
        {formError && <Alert>{formError}</Alert>}
        <Field id="register-name" label="Name" error={errors.name}>
          <input {...described('register-name', errors.name)} autocomplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="register-email" label="Email" error={errors.email}>
          <input {...described('register-email', errors.email)} type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field id="register-password" label="Password" error={errors.password} hint="8 to 128 characters; not a common password.">
          <input
            {...described('register-password', errors.password, 'hint')}
            type="password"
            autocomplete="new-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
        <p>
          Already have an account? <a href="/login">Log in</a>
        </p>
      </form>
    </main>
  );
}
