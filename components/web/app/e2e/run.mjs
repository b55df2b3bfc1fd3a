// End-to-end tests of the web app in headless Chromium (Debian's, driven by playwright-core)
// against the real platform started as `make run` starts it. Every page visited is checked
// with axe-core (no serious or critical violations) and for Content-Security-Policy reports;
// screenshots of the main pages go to docs/screenshots/.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, startPlatform } from './platform.mjs';
import { png } from './png.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(ROOT, 'docs/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const only = process.env.E2E_ONLY;

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

let platform;
let browser;
const axeReport = [];

// ---------------------------------------------------------------- helpers

async function newPage({ width = 1280, height = 860 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, timezoneId: 'Europe/Paris', locale: 'en-GB' });
  const page = await context.newPage();
  page.cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) page.cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => page.cspViolations.push(`page error: ${e.message}`));
  page.on('dialog', (d) => d.accept());
  page.setDefaultTimeout(15_000);
  return page;
}

async function axe(page, label) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  axeReport.push({ page: label, violations: result.length, serious: bad.length });
  assert(bad.length === 0, `axe on ${label}: ${JSON.stringify(bad, null, 1)}`);
  assert(page.cspViolations.length === 0, `CSP/page errors on ${label}: ${page.cspViolations.join('\n')}`);
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => {
    document.activeElement?.blur?.();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function noHorizontalOverflow(page, label) {
  const { scroll, width, culprits } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    culprits: [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.parentElement?.closest('[role=region], nav'))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
  }));
  assert(scroll <= width + 1, `${label} overflows a ${width}px screen (${scroll}px wide): ${culprits.join(', ')}`);
}

async function apiCall(method, path, body, token, ws) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (ws) headers['X-Workspace-ID'] = ws;
  const r = await fetch(`${platform.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json.data;
}

const unique = () => Math.random().toString(36).slice(2, 10);
const PASSWORD = 'correct horse battery staple 42';

async function registerInUi(page, name) {
  const email = `${name.toLowerCase().replace(/\W/g, '')}-${unique()}@example.com`;
  await page.goto(`${platform.base}/register`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/calendar');
  await page.getByRole('heading', { name: 'Calendar' }).waitFor();
  return email;
}

async function loginInUi(page, email, password = PASSWORD) {
  await page.goto(`${platform.base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function connectInUi(page) {
  await page.goto(`${platform.base}/accounts`);
  await page.getByRole('button', { name: 'Connect an X account' }).click();
  // xsim consents at once when it has one user; with several it shows a consent page.
  await page.waitForURL((u) => u.pathname === '/accounts' || u.pathname.includes('authorize'));
  if (new URL(page.url()).pathname.includes('authorize')) await page.getByRole('link', { name: /Authorize as @xmp_demo/ }).click();
  await page.waitForURL('**/accounts?status=connected*');
  await page.getByText('The account is connected.').waitFor();
  await page.getByRole('heading', { name: '@xmp_demo' }).waitFor();
}

async function session(page) {
  return page.evaluate(() => ({ s: JSON.parse(localStorage.getItem('xmp.session') ?? 'null'), ws: localStorage.getItem('xmp.workspace') }));
}

// ---------------------------------------------------------------- tests

test('a new user registers, connects an account, schedules a thread with an image, drags it to another slot and sees it published', async () => {
  const page = await newPage();
  await page.goto(`${platform.base}/login`);
  await axe(page, 'login');
  await shot(page, 'login');
  await page.goto(`${platform.base}/register`);
  await axe(page, 'register');
  await registerInUi(page, 'Ada Planner');

  await connectInUi(page);
  await axe(page, 'accounts');
  await shot(page, 'accounts');
  const { s, ws } = await session(page);
  const accounts = await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws);
  const account = accounts.items[0];
  const zone = account.timezone;

  // Compose: a two-part thread, an image on the first part, scheduled an hour and two
  // minutes from now in the account's zone.
  await page.goto(`${platform.base}/compose`);
  const first = `Launch thread ${unique()} 🚀 https://example.com/a-very-long-link-that-counts-as-23`;
  await page.getByLabel('Post text').fill(first);
  const counter = page.getByTestId('counter').first();
  const expected = first.length - 'https://example.com/a-very-long-link-that-counts-as-23'.length + 23; // the rocket is 2 UTF-16 units and weighs 2
  assert((await counter.textContent()).startsWith(`${expected}/280`), `counter shows ${await counter.textContent()}, expected ${expected}`);
  await page.getByLabel('Add media to post 1').setInputFiles({ name: 'launch.png', mimeType: 'image/png', buffer: png(64, 64, [29, 78, 216]) });
  await page.getByText('Uploaded').waitFor();
  assert(await page.getByRole('img', { name: 'Preview of launch.png' }).isVisible(), 'the image preview is shown');
  await page.getByRole('button', { name: '+ Add to thread' }).click();
  const second = `And the second part ${unique()}`;
  await page.getByLabel('Post 2 of 2').fill(second);
  const later = Date.now() + 62 * 60_000;
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(later)).map((p) => [p.type, p.value]));
  await page.getByLabel(`Date (${zone})`).fill(`${parts.year}-${parts.month}-${parts.day}`);
  await page.getByLabel(`Time (${zone})`).fill(`${parts.hour}:${parts.minute}`);
  await axe(page, 'compose');
  await shot(page, 'compose');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();

  // The calendar shows it in the week view, in the account's zone.
  await page.waitForURL('**/calendar?date=*');
  const chip = page.locator('.chip', { hasText: first.slice(0, 20) });
  await chip.waitFor();
  const post = (await apiCall('GET', '/api/tweets?status=scheduled', undefined, s.accessToken, ws)).items.find((p) => p.content.startsWith(first.slice(0, 20)));
  assert(post, 'the post is scheduled');
  assert(Math.abs(Date.parse(post.scheduledAt) - Math.floor(later / 60_000) * 60_000) < 60_000, `scheduled at ${post.scheduledAt}`);
  await axe(page, 'calendar week');
  await shot(page, 'calendar-week');

  // Drag it to the slot two minutes from now; the drop keeps the minute, so the hour of
  // "now + 2 min" with the post's minute is that instant.
  const soon = new Date(later - 60 * 60_000);
  const sp = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit' }).formatToParts(soon).map((p) => [p.type, p.value]));
  const slot = page.locator(`td[data-slot="${sp.year}-${sp.month}-${sp.day}T${sp.hour}"]`);
  await chip.dragTo(slot);
  await page.getByText(/^Moved to/).waitFor();
  const moved = await apiCall('GET', `/api/tweets/${post.id}`, undefined, s.accessToken, ws);
  assert(Math.abs(Date.parse(moved.scheduledAt) - Math.floor(soon.getTime() / 60_000) * 60_000) < 60_000, `rescheduled to ${moved.scheduledAt}, expected ${soon.toISOString()}`);
  assert(moved.history.some((h) => h.kind === 'rescheduled'), 'history records the move');
  assert(moved.thread.length === 1 && moved.mediaIds.length === 1, 'the move kept the thread and the image');
  await slot.locator('.chip').waitFor();

  // The cron trigger (every 10 s) publishes it: xsim's post log shows both parts.
  const deadline = Date.now() + 240_000;
  let published = [];
  while (Date.now() < deadline) {
    const log = await (await fetch(`${platform.xsim}/__admin/posts`)).json();
    const all = log.posts ?? log.data?.posts ?? [];
    published = all.filter((p) => JSON.stringify(p).includes(first.slice(0, 20)) || JSON.stringify(p).includes(second));
    if (published.length >= 2) break;
    await new Promise((r) => setTimeout(r, 3000));
  }
  assert(published.length >= 2, `xsim received the thread (got ${published.length} posts)`);
  await page.locator('.chip-published', { hasText: first.slice(0, 20) }).waitFor({ timeout: 30_000 });
  await shot(page, 'calendar-published');

  // Its status and history on the post page; analytics (or the honest unavailable state).
  await page.goto(`${platform.base}/posts`);
  await page.locator('tr', { hasText: first.slice(0, 20) }).locator('.badge-published').waitFor();
  await axe(page, 'posts');
  await shot(page, 'posts');
  await page.getByRole('link', { name: first.slice(0, 20), exact: false }).click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  await page.getByText('rescheduled', { exact: true }).waitFor();
  await axe(page, 'post detail');
  await page.goto(`${platform.base}/calendar?view=month`);
  await page.locator('.chip-published').first().waitFor();
  await axe(page, 'calendar month');
  await shot(page, 'calendar-month');
  await page.goto(`${platform.base}/analytics`);
  await page.getByText(/Analytics unavailable|Impressions/).first().waitFor();
  await axe(page, 'analytics');
  await shot(page, 'analytics');
  await page.goto(`${platform.base}/team`);
  await page.getByRole('heading', { name: /Members of/ }).waitFor();
  await axe(page, 'team');
  await shot(page, 'team');
  await page.goto(`${platform.base}/audit`);
  await page.getByRole('cell', { name: 'post.updated' }).first().waitFor();
  await page.getByLabel('Action (e.g. post.created)').fill('post.updated');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('tbody tr td:nth-child(2)')].every((td) => td.textContent === 'post.updated'));
  await axe(page, 'audit');
  await page.goto(`${platform.base}/accounts/${account.id}`);
  await page.getByRole('heading', { name: 'Settings for @xmp_demo' }).waitFor();
  await axe(page, 'account settings');
  await page.context().close();
});

test('posting slots and the time zone are edited on the account settings page', async () => {
  const page = await newPage();
  await registerInUi(page, 'Sam Slots');
  await connectInUi(page);
  await page.getByRole('link', { name: 'Settings for @xmp_demo' }).click();
  await page.getByLabel('Time zone').fill('Mars/Olympus');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText(/Not a time zone/).waitFor();
  await page.getByLabel('Time zone').fill('America/New_York');
  await page.getByRole('button', { name: 'Weekdays at 9, 13 and 17' }).click();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved').waitFor();
  const { s, ws } = await session(page);
  const a = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0];
  assert(a.timezone === 'America/New_York', `zone saved: ${a.timezone}`);
  assert(a.postingSlots.length === 15, `15 slots saved: ${JSON.stringify(a.postingSlots)}`);
  await shot(page, 'account-settings');
  await page.context().close();
});

test("the composer's live count agrees with the API's validation on tricky texts", async () => {
  const page = await newPage();
  await registerInUi(page, 'Cy Counter');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const texts = [
    'plain ascii',
    '漢字とかなカナ 한국어',
    '👩‍👩‍👧‍👦 family 🇫🇷 flag 👍🏽 tone',
    'links https://example.com/path?q=1 and www.example.org. and bbc.co.uk',
    'not links: node.js e.g. a@b.example',
    'Cafe\u0301 déjà vu — “quotes” … ‘single’',
    '€100 ₿ © ® ™ ← → ★ ✓',
    '#hashtag @mention $CASH https://t.co/abc',
    'x'.repeat(270) + ' https://example.com',
  ];
  await page.goto(`${platform.base}/compose`);
  for (const text of texts) {
    await page.getByLabel('Post text').fill(text);
    const shown = Number((await page.getByTestId('counter').textContent()).split('/')[0]);
    const report = await apiCall('POST', '/api/tweets/validate', { content: text }, s.accessToken, ws);
    const api = report.weightedLength ?? report.text?.weightedLength ?? report.parts?.[0]?.weightedLength;
    assert(shown === api, `${JSON.stringify(text)}: the composer shows ${shown}, the API counts ${api} (${JSON.stringify(report).slice(0, 200)})`);
  }
  await page.context().close();
});

test('a post with a poll, replying to a post, goes to the next free posting slot of the queue', async () => {
  const page = await newPage();
  await registerInUi(page, 'Quinn Queue');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const accountId = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0].id;
  const slots = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, time: '10:30' }));
  await apiCall('PATCH', `/api/accounts/${accountId}`, { postingSlots: slots, timezone: 'Asia/Tokyo' }, s.accessToken, ws);
  await page.goto(`${platform.base}/compose`);
  const text = `Which do you prefer? ${unique()}`;
  await page.getByLabel('Post text').fill(text);
  await page.getByLabel('Add a poll to the first post').check();
  await page.getByLabel('Choice 1').fill('Tea');
  await page.getByLabel('Choice 2').fill('Coffee');
  await page.getByRole('button', { name: '+ Add a choice' }).click();
  await page.getByLabel('Choice 3').fill('Water');
  await page.getByLabel('Poll length').selectOption('360');
  await page.getByLabel('Reply to (post URL or id)').fill('https://x.com/someone/status/1234567890123');
  await page.getByLabel('Add to queue (next free posting slot)').check();
  await page.getByRole('button', { name: 'Add to queue' }).click();
  await page.getByText(/^Scheduled for .*Asia\/Tokyo/).waitFor();
  const post = (await apiCall('GET', '/api/tweets', undefined, s.accessToken, ws)).items.find((p) => p.content === text);
  assert(post && post.queued && post.status === 'scheduled', `queued: ${JSON.stringify(post)}`);
  assert(JSON.stringify(post.poll.options) === '["Tea","Coffee","Water"]' && post.poll.durationMinutes === 360, `poll: ${JSON.stringify(post.poll)}`);
  assert(post.replyTo === '1234567890123', `reply to the id from the URL: ${post.replyTo}`);
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(post.scheduledAt));
  assert(local === '10:30', `the slot is 10:30 in Tokyo: ${local}`);
  await page.context().close();
});

test('a wrong password is refused on the login page and a good one signs in', async () => {
  const page = await newPage();
  const email = await registerInUi(page, 'Lou Login');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await loginInUi(page, email, 'not the password at all');
  await page.getByRole('alert').filter({ hasText: 'That email and password do not match an account.' }).waitFor();
  await axe(page, 'login with an error');
  await loginInUi(page, email);
  await page.waitForURL('**/calendar');
  await page.context().close();
});

test('the session survives a reload, ends on logout, and a refused token returns to the login page', async () => {
  const page = await newPage();
  await registerInUi(page, 'Rey Reload');
  const before = (await session(page)).s;
  await page.reload();
  await page.getByRole('heading', { name: 'Calendar' }).waitFor();
  const after = (await session(page)).s;
  assert(after && after.refreshToken !== before.refreshToken, 'the reload rotated the refresh token and kept the session');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  assert((await session(page)).s === null, 'logout forgets the tokens');
  const refused = await fetch(`${platform.base}/api/auth/profile`, { headers: { Authorization: `Bearer ${after.accessToken}` } });
  assert(refused.status === 401, `the old access token is refused after logout (${refused.status})`);
  await page.goto(`${platform.base}/posts`);
  await page.waitForURL('**/login?next=*');

  // A session the server ends while the app is open (logged out elsewhere): the next call
  // gets a 401, the refresh is refused too, and the app returns to the login page.
  const email = await registerInUi(page, 'Rey Revoked');
  const live = (await session(page)).s;
  await apiCall('POST', '/api/auth/logout', {}, live.accessToken);
  await page.getByRole('link', { name: 'Posts' }).click();
  await page.waitForURL('**/login?expired=1*');
  await page.getByText('Your session ended. Log in again to carry on.').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/posts');
  await page.getByRole('heading', { name: 'Posts' }).waitFor();
  await page.context().close();
});

test('validation errors from the API are shown next to their fields', async () => {
  const page = await newPage();
  await page.goto(`${platform.base}/register`);
  await page.getByLabel('Name').fill('Short Password');
  await page.getByLabel('Email').fill(`short-${unique()}@example.com`);
  await page.getByLabel('Password').fill('abc');
  await page.getByRole('button', { name: 'Create account' }).click();
  const pwError = page.locator('#register-password-error');
  await pwError.waitFor();
  assert(/8 to 128/.test(await pwError.textContent()), `password error: ${await pwError.textContent()}`);
  assert((await page.getByLabel('Password').getAttribute('aria-invalid')) === 'true', 'the password field is marked invalid');

  await registerInUi(page, 'Val Composer');
  await connectInUi(page);
  await page.goto(`${platform.base}/compose`);
  await page.getByLabel('Post text').fill('x'.repeat(290));
  assert((await page.getByTestId('counter').textContent()).startsWith('290/280'), 'the counter shows 290/280');
  await page.getByLabel('Reply to (post URL or id)').fill('12x');
  await page.getByLabel(/^Date \(/).fill('2020-01-01');
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await page.locator('[id^="part-"][id$="-error"]').waitFor();
  await page.locator('#compose-reply-error').waitFor();
  await page.locator('#compose-date-error').waitFor();
  await axe(page, 'compose with errors');
  await shot(page, 'compose-errors');
  await page.context().close();
});

test('a viewer sees the calendar and posts but no edit controls', async () => {
  const owner = await newPage();
  await registerInUi(owner, 'Olga Owner');
  await connectInUi(owner);
  const { s, ws } = await session(owner);
  const accountId = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0].id;
  const readable = new Date(Date.now() + 3 * 3600_000);
  await apiCall('POST', '/api/tweets', { content: `Viewer can read this ${unique()}`, accountId, scheduledAt: readable.toISOString() }, s.accessToken, ws);
  const viewerEmail = `viewer-${unique()}@example.com`;
  await apiCall('POST', '/api/auth/register', { name: 'Vic Viewer', email: viewerEmail, password: PASSWORD });
  await owner.goto(`${platform.base}/team`);
  await owner.getByLabel('Add a member by email').fill(viewerEmail);
  await owner.getByLabel('Role', { exact: true }).selectOption('viewer');
  await owner.getByRole('button', { name: 'Add member' }).click();
  await owner.getByRole('cell', { name: viewerEmail }).waitFor();
  await owner.context().close();

  const page = await newPage();
  await loginInUi(page, viewerEmail);
  await page.waitForURL('**/calendar');
  const viewerWs = await page.locator('#workspace-switcher option', { hasText: '(viewer)' }).getAttribute('value');
  await page.getByLabel('Workspace').selectOption(viewerWs);
  await page.goto(`${platform.base}/calendar?tz=UTC&date=${readable.toISOString().slice(0, 10)}`);
  await page.locator('.chip', { hasText: 'Viewer can read this' }).waitFor();
  assert((await page.getByRole('link', { name: 'Compose' }).count()) === 0, 'no Compose in the navigation');
  assert((await page.getByRole('link', { name: 'New post' }).count()) === 0, 'no New post button');
  assert((await page.locator('.chip[draggable="true"]').count()) === 0, 'posts cannot be dragged');
  await axe(page, 'calendar as viewer');
  await page.goto(`${platform.base}/posts`);
  await page.locator('tr', { hasText: 'Viewer can read this' }).waitFor();
  assert((await page.getByRole('button', { name: /Cancel|Delete/ }).count()) === 0, 'no cancel or delete');
  assert((await page.getByRole('link', { name: 'Edit' }).count()) === 0, 'no edit');
  assert((await page.getByRole('heading', { name: 'Import from CSV' }).count()) === 0, 'no import');
  await page.goto(`${platform.base}/accounts`);
  await page.getByRole('heading', { name: '@xmp_demo' }).waitFor();
  assert((await page.getByRole('button', { name: /Connect|Reconnect/ }).count()) === 0, 'no connect');
  await page.goto(`${platform.base}/compose`);
  await page.getByText(/Your role in this workspace is viewer/).waitFor();
  await page.context().close();
});

test('an account X stopped accepting is marked and reconnected through X consent', async () => {
  const page = await newPage();
  await registerInUi(page, 'Rita Reconnect');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const account = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0];
  await fetch(`${platform.xsim}/__admin/tokens/revoke-user/${account.xUserId}`, { method: 'POST' });
  // The next use of the token finds it revoked (a refresh, as the scheduler's tick would do).
  await fetch(`${platform.base}/api/accounts/${account.id}/refresh`, { method: 'POST', headers: { Authorization: `Bearer ${s.accessToken}`, 'X-Workspace-ID': ws } });
  await page.goto(`${platform.base}/accounts`);
  const reconnect = page.getByRole('button', { name: 'Reconnect @xmp_demo' });
  await reconnect.waitFor();
  await page.getByText(/Reconnect it to keep publishing/).waitFor();
  await shot(page, 'accounts-needs-reauth');
  await axe(page, 'accounts needing reauthorization');
  await reconnect.click();
  await page.waitForURL('**/accounts?status=connected*');
  await page.locator('.card', { hasText: '@xmp_demo' }).getByText('active').waitFor();
  assert((await page.getByRole('button', { name: 'Reconnect @xmp_demo' }).count()) === 0, 'no reconnect once active');
  await page.context().close();
});

test('a post X refused stands out on the calendar with the reason, and Retry schedules it again', async () => {
  const page = await newPage();
  await registerInUi(page, 'Fay Failure');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const accountId = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0].id;
  // X refuses the next post (a 400 is not worth retrying as it is).
  await fetch(`${platform.xsim}/__admin/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ method: 'POST', path: '/2/tweets', status: 400, count: 1 }) });
  const text = `This one X refuses ${unique()}`;
  try {
    const created = await apiCall('POST', '/api/tweets', { content: text, accountId, scheduledAt: new Date(Date.now() + 5_000).toISOString() }, s.accessToken, ws);
    const deadline = Date.now() + 90_000;
    let post;
    do {
      await new Promise((r) => setTimeout(r, 2000));
      post = await apiCall('GET', `/api/tweets/${created.id}`, undefined, s.accessToken, ws);
    } while (post.status !== 'failed' && Date.now() < deadline);
    assert(post.status === 'failed', `the post failed (${post.status})`);
  } finally {
    await fetch(`${platform.xsim}/__admin/faults`, { method: 'DELETE' });
  }
  await page.goto(`${platform.base}/calendar?tz=UTC`);
  const chip = page.locator('.chip-failed', { hasText: text.slice(0, 20) });
  await chip.waitFor();
  assert((await chip.locator('.chip-reason').textContent()).length > 0, 'the reason is shown');
  await page.getByRole('alert').filter({ hasText: 'failed to publish' }).waitFor();
  await axe(page, 'calendar with a failed post');
  await shot(page, 'calendar-failed');
  await chip.getByRole('button', { name: 'Retry' }).click();
  await page.getByText(/^Retrying/).waitFor();
  const all = (await apiCall('GET', '/api/tweets', undefined, s.accessToken, ws)).items.filter((p) => p.content === text);
  assert(all.some((p) => p.status === 'scheduled') && all.some((p) => p.status === 'cancelled'), `a scheduled copy and the failed one cancelled: ${all.map((p) => p.status)}`);
  await page.context().close();
});

test('a CSV import with a bad row names the row and imports nothing', async () => {
  const page = await newPage();
  await registerInUi(page, 'Ivy Import');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const accountId = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0].id;
  const at = new Date(Date.now() + 48 * 3600_000).toISOString();
  const csv = `content,accountId,scheduledAt\n"Good row ${unique()}",${accountId},${at}\n"${'y'.repeat(300)}",${accountId},${at}\n`;
  await page.goto(`${platform.base}/posts`);
  await page.getByLabel('Or paste the CSV').fill(csv);
  await page.getByRole('button', { name: 'Import' }).click();
  const table = page.getByRole('table', { name: 'Problems by row' });
  await table.waitFor();
  const cells = await table.locator('tbody tr').first().locator('td').allTextContents();
  assert(cells[0] === '2', `the bad row is row 2: ${cells}`);
  await axe(page, 'posts with import errors');
  await shot(page, 'import-errors');
  const posts = await apiCall('GET', '/api/tweets', undefined, s.accessToken, ws);
  assert(posts.items.length === 0, 'nothing was imported');
  await page.getByLabel('Or paste the CSV').fill(`content,accountId,scheduledAt\n"Good row ${unique()}",${accountId},${at}\n`);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByText('Imported 1 post.').waitFor();
  await page.context().close();
});

test('every main page works at 375 px wide without sideways scrolling', async () => {
  const page = await newPage({ width: 375, height: 780 });
  await registerInUi(page, 'Mo Mobile');
  await connectInUi(page);
  for (const path of ['/calendar', '/calendar?view=month', '/compose', '/posts', '/accounts', '/team', '/audit', '/analytics']) {
    await page.goto(`${platform.base}${path}`);
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle');
    await noHorizontalOverflow(page, path);
    await axe(page, `${path} at 375 px`);
    if (path === '/calendar') await shot(page, 'mobile-calendar');
    if (path === '/compose') await shot(page, 'mobile-compose');
  }
  await page.context().close();
});

test('the app is served with a strict CSP, caching and gzip, and unknown API paths keep the 404 envelope', async () => {
  const html = await fetch(`${platform.base}/calendar`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert(html.status === 200, `status ${html.status}`);
  const csp = html.headers.get('content-security-policy') ?? '';
  assert(csp.includes("default-src 'self'") && !csp.includes('unsafe-inline'), `CSP: ${csp}`);
  assert(html.headers.get('cache-control') === 'no-cache', 'HTML is not cached');
  const body = await html.text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(body)[1];
  const js = await fetch(`${platform.base}${script}`, { headers: { 'Accept-Encoding': 'gzip' } });
  assert(js.headers.get('cache-control') === 'public, max-age=31536000, immutable', 'fingerprinted assets are immutable');
  assert(js.headers.get('content-encoding') === 'gzip', 'gzip when accepted');
  assert(js.headers.get('x-content-type-options') === 'nosniff', 'nosniff');
  const api404 = await fetch(`${platform.base}/api/nope`);
  const envelope = await api404.json();
  assert(api404.status === 404 && envelope.success === false && envelope.error.type === 'NOT_FOUND', 'API 404 envelope');
});

// ---------------------------------------------------------------- runner

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    process.exit(2);
  }
  platform = await startPlatform();
  let failed = 0;
  let ran = 0;
  try {
    // playwright-core gives every launch a new, empty profile directory of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    for (const t of tests) {
      if (only && !t.name.includes(only)) continue;
      const started = Date.now();
      ran++;
      try {
        await t.fn();
        console.log(`ok   ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}\n     ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n     ')}`);
      }
    }
  } finally {
    await browser?.close();
    platform.stop();
  }
  writeFileSync(join(SHOTS, '..', 'axe-report.json'), JSON.stringify(axeReport, null, 1) + '\n');
  console.log(`${ran - failed} passed, ${failed} failed; axe checked ${axeReport.length} page states`);
  if (failed) {
    console.log('--- platform log (tail) ---\n' + platform.log.join('').split('\n').slice(-40).join('\n'));
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
