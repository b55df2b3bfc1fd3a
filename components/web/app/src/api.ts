// Every call the app makes goes through here: the public API, the bearer token, the acting
// workspace, one refresh on a 401, and the error envelope turned into an ApiError.

export interface User {
  id: string;
  email: string;
  name: string;
}

interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public type: string,
    public code: string,
    message: string,
    public details: any = {},
    public correlationId = '',
  ) {
    super(message);
  }

  /** Field → message, from `details.errors[]` or `details.field`. */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    const d = this.details ?? {};
    if (Array.isArray(d.errors)) {
      for (const e of d.errors) if (e && typeof e.field === 'string') out[e.field] = e.message ?? this.message;
    }
    if (typeof d.field === 'string') out[d.field] = this.message;
    if (d.text && typeof d.text === 'object') out.content = this.message;
    return out;
  }
}

const STORAGE_KEY = 'xmp.session';
const WORKSPACE_KEY = 'xmp.workspace';
let session: Session | null = load();
let refreshing: Promise<boolean> | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function save(next: Session | null) {
  session = next;
  if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else localStorage.removeItem(STORAGE_KEY);
  scheduleRefresh();
  listeners.forEach((l) => l());
}

/** Called when the session ends against the user's will (a 401 that a refresh cannot fix). */
let onSessionLost: () => void = () => {};
export function setSessionLostHandler(handler: () => void) {
  onSessionLost = handler;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentUser(): User | null {
  return session?.user ?? null;
}

export function hasSession(): boolean {
  return session !== null;
}

export function workspaceId(): string | null {
  return localStorage.getItem(WORKSPACE_KEY);
}

export function setWorkspaceId(id: string | null) {
  if (id) localStorage.setItem(WORKSPACE_KEY, id);
  else localStorage.removeItem(WORKSPACE_KEY);
}

function accept(data: any) {
  save({
    user: data.user,
    accessToken: data.accessToken,
    refreshToken: data.refreshToken,
    expiresAt: Date.now() + Number(data.expiresIn ?? 900) * 1000,
  });
}

// Refresh a minute before the access token expires, so that requests never wait for it.
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const wait = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
  refreshTimer = setTimeout(() => void refresh(), wait);
}
scheduleRefresh();

/** Rotates the refresh token; concurrent callers share one request. */
export function refresh(): Promise<boolean> {
  if (!session) return Promise.resolve(false);
  if (!refreshing) {
    const token = session.refreshToken;
    refreshing = send('POST', '/api/auth/refresh', { refreshToken: token }, false)
      .then((data) => {
        accept(data);
        return true;
      })
      .catch((e) => {
        // Only a refusal ends the session; a network blip keeps it for the next try.
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          save(null);
          return false;
        }
        return true;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export async function register(name: string, email: string, password: string) {
  accept(await send('POST', '/api/auth/register', { name, email, password }, false));
}

export async function login(email: string, password: string) {
  accept(await send('POST', '/api/auth/login', { email, password }, false));
}

export async function logout() {
  try {
    if (session) await send('POST', '/api/auth/logout', {}, true);
  } catch {
    // The session ends here whatever the server said.
  }
  setWorkspaceId(null);
  save(null);
}

type Body = unknown;

async function send(method: string, path: string, body: Body | undefined, auth: boolean, extra?: RequestInit): Promise<any> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof FormData) payload = body;
  else if (typeof body === 'string') {
    headers['Content-Type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (auth && session) headers.Authorization = `Bearer ${session.accessToken}`;
  const ws = workspaceId();
  if (auth && ws) headers['X-Workspace-ID'] = ws;
  let resp: Response;
  try {
    resp = await fetch(path, { method, headers, body: payload, ...extra });
  } catch {
    throw new ApiError(0, 'NETWORK', 'NETWORK', 'The server could not be reached. Check your connection and try again.');
  }
  return readEnvelope(resp);
}

async function readEnvelope(resp: Response): Promise<any> {
  if (resp.status === 204) return null;
  const text = await resp.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (resp.ok && json && json.success) return json.data;
  const e = json?.error;
  if (e) throw new ApiError(resp.status, e.type, e.code, e.message, e.details ?? {}, e.correlationId ?? '');
  throw new ApiError(resp.status, 'HTTP', String(resp.status), `The server answered ${resp.status}.`);
}

/** An authenticated call. A 401 refreshes once and retries; if that fails the session is lost. */
export async function api<T = any>(method: string, path: string, body?: Body): Promise<T> {
  try {
    return await send(method, path, body, true);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401 || !session) throw e;
    if (await refresh()) {
      try {
        return await send(method, path, body, true);
      } catch (again) {
        if (!(again instanceof ApiError) || again.status !== 401) throw again;
      }
    }
    save(null);
    onSessionLost();
    throw e;
  }
}

/** Upload with progress (fetch has no upload progress); same auth and envelope rules. */
export function upload(path: string, file: File, onProgress: (fraction: number) => void): Promise<any> {
  const attempt = () =>
    new Promise<any>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      if (session) xhr.setRequestHeader('Authorization', `Bearer ${session.accessToken}`);
      const ws = workspaceId();
      if (ws) xhr.setRequestHeader('X-Workspace-ID', ws);
      xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = (ev) => ev.lengthComputable && onProgress(ev.loaded / ev.total);
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'NETWORK', 'The upload was interrupted.'));
      xhr.onload = () => {
        const resp = new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status });
        readEnvelope(resp).then(resolve, reject);
      };
      xhr.send(file);
    });
  return attempt().catch(async (e) => {
    if (e instanceof ApiError && e.status === 401 && (await refresh())) return attempt();
    throw e;
  });
}

/** Follows `nextCursor` until the list ends or `max` items were read. */
export async function listAll<T = any>(path: string, max = 500): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: any = await api('GET', `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...(page.items ?? []));
    cursor = page.nextCursor ?? null;
  } while (cursor && items.length < max);
  return items;
}

/** A non-JSON answer (CSV exports), with the same auth as `api`. */
export async function download(path: string, accept: string): Promise<Blob> {
  const get = () => {
    const headers: Record<string, string> = { Accept: accept };
    if (session) headers.Authorization = `Bearer ${session.accessToken}`;
    const ws = workspaceId();
    if (ws) headers['X-Workspace-ID'] = ws;
    return fetch(path, { headers });
  };
  let resp = await get();
  if (resp.status === 401 && (await refresh())) resp = await get();
  if (!resp.ok) await readEnvelope(resp);
  return resp.blob();
}
