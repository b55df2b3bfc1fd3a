import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import * as api from './api';
import { linkHandler, navigate, useLocation } from './router';
import { AppContext, can, useApp, type Account, type AppState, type Workspace } from './state';
import { Alert, Loading } from './ui';
import { LoginPage, RegisterPage } from './pages/auth';
import { CalendarPage } from './pages/calendar';
import { ComposePage } from './pages/compose';
import { PostsPage, PostDetailPage } from './pages/posts';
import { AccountsPage, AccountSettingsPage } from './pages/accounts';
import { TeamPage } from './pages/team';
import { AuditPage } from './pages/audit';
import { AnalyticsPage } from './pages/analytics';
import './styles.css';

const PUBLIC = ['/login', '/register'];

function App() {
  const loc = useLocation();
  const [signedIn, setSignedIn] = useState(api.hasSession());
  useEffect(() => api.onSessionChange(() => setSignedIn(api.hasSession())), []);
  useEffect(() => {
    api.setSessionLostHandler(() => {
      const next = location.pathname + location.search;
      navigate(`/login?expired=1&next=${encodeURIComponent(next)}`, true);
    });
  }, []);

  if (!signedIn && !PUBLIC.includes(loc.path)) {
    // Not signed in: the login page, with the page asked for kept for afterwards.
    const next = loc.path === '/' ? '' : `?next=${encodeURIComponent(loc.path + location.search)}`;
    if (!location.search.includes('expired=1')) history.replaceState(null, '', `/login${next}`);
    return <LoginPage />;
  }
  if (signedIn && PUBLIC.includes(loc.path)) {
    const next = new URLSearchParams(location.search).get('next');
    history.replaceState(null, '', next && next.startsWith('/') && !next.startsWith('//') ? next : '/calendar');
    return <SignedIn />;
  }
  if (loc.path === '/login') return <LoginPage />;
  if (loc.path === '/register') return <RegisterPage />;
  return <SignedIn />;
}

function SignedIn() {
  const loc = useLocation();
  const [workspaces, setWorkspaces] = useState<Workspace[] | null>(null);
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [accountsLoaded, setAccountsLoaded] = useState(false);
  const [wsId, setWsId] = useState<string | null>(api.workspaceId());
  const [loadError, setLoadError] = useState('');
  const [toast, setToast] = useState<{ message: string; kind: 'ok' | 'error' } | null>(null);

  const reloadWorkspaces = useCallback(async () => {
    try {
      const data = await api.api('GET', '/api/workspaces');
      const list: Workspace[] = data.items ?? data;
      setWorkspaces(list);
      const current = list.find((w) => w.id === api.workspaceId()) ?? list[0] ?? null;
      api.setWorkspaceId(current?.id ?? null);
      setWsId(current?.id ?? null);
    } catch (e) {
      setLoadError(e instanceof Error ? e.message : 'Could not load your workspaces.');
    }
  }, []);

  const reloadAccounts = useCallback(async () => {
    try {
      setAccounts(await api.listAll<Account>('/api/accounts'));
    } catch {
      setAccounts([]);
    }
    setAccountsLoaded(true);
  }, []);

  useEffect(() => {
    void reloadWorkspaces();
  }, []);
  useEffect(() => {
    if (wsId) void reloadAccounts();
  }, [wsId]);

  const notify = useCallback((message: string, kind: 'ok' | 'error' = 'ok') => {
    setToast({ message, kind });
    setTimeout(() => setToast((t) => (t?.message === message ? null : t)), 6000);
  }, []);

  if (loadError) return <Alert>{loadError}</Alert>;
  if (!workspaces) return <Loading what="your workspaces" />;

  const state: AppState = {
    workspaces,
    workspace: workspaces.find((w) => w.id === wsId) ?? null,
    accounts,
    accountsLoaded,
    reloadAccounts,
    reloadWorkspaces,
    switchWorkspace: (id) => {
      api.setWorkspaceId(id);
      setWsId(id);
      setAccounts([]);
      setAccountsLoaded(false);
    },
    notify,
  };

  return (
    <AppContext.Provider value={state}>
      <Shell path={loc.path} toast={toast}>
        <Page path={loc.path} key={`${wsId}`} />
      </Shell>
    </AppContext.Provider>
  );
}

function Page({ path }: { path: string }) {
  if (path === '/' || path === '/calendar') return <CalendarPage />;
  if (path === '/compose') return <ComposePage />;
  if (path === '/posts') return <PostsPage />;
  if (path.startsWith('/posts/')) return <PostDetailPage id={path.slice(7)} />;
  if (path === '/accounts') return <AccountsPage />;
  if (path.startsWith('/accounts/')) return <AccountSettingsPage id={path.slice(10)} />;
  if (path === '/team') return <TeamPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/analytics') return <AnalyticsPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at {path}. <a href="/calendar">Go to the calendar</a>.
      </p>
    </section>
  );
}

const NAV: Array<{ href: string; label: string; min?: 'editor' | 'admin' }> = [
  { href: '/calendar', label: 'Calendar' },
  { href: '/compose', label: 'Compose', min: 'editor' },
  { href: '/posts', label: 'Posts' },
  { href: '/accounts', label: 'Accounts' },
  { href: '/analytics', label: 'Analytics' },
  { href: '/team', label: 'Team' },
  { href: '/audit', label: 'Audit log', min: 'admin' },
];

function Shell({ path, toast, children }: { path: string; toast: { message: string; kind: 'ok' | 'error' } | null; children: any }) {
  const state = useApp();
  const current = (href: string) =>
    path === href || (path === '/' && href === '/calendar') || path.startsWith(href + '/');
  return (
    <div class="shell" onClick={linkHandler as any}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/calendar" aria-label="xmp home">
          xmp
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.min || can(state, n.min)).map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={current(n.href) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-end">
          <label class="visually-hidden" for="workspace-switcher">
            Workspace
          </label>
          <select
            id="workspace-switcher"
            value={state.workspace?.id ?? ''}
            onChange={(e) => state.switchWorkspace((e.target as HTMLSelectElement).value)}
          >
            {state.workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name} ({w.role})
              </option>
            ))}
          </select>
          <span class="who">{api.currentUser()?.name}</span>
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              await api.logout();
              navigate('/login', true);
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <div class="toast-region" aria-live="polite">
        {toast && <div class={`toast toast-${toast.kind}`}>{toast.message}</div>}
      </div>
    </div>
  );
}

// Tokens: refresh once at start so that a reload resumes the session with fresh credentials.
async function boot() {
  if (api.hasSession()) await api.refresh();
  render(<App />, document.getElementById('app')!);
}
void boot();
