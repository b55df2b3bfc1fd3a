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

async function shot(page, name, { fullPage = false, keepFocus = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  if (!keepFocus) {
    await page.evaluate(() => {
      document.activeElement?.blur?.();
      window.scrollTo(0, 0);
    });
  }
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
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


const DAY_MS = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The simulator's demo user (every test connects it). */
async function demoUser() {
  const { users } = await (await fetch(`${platform.xsim}/__admin/users`)).json();
  return users.find((u) => u.username === 'xmp_demo');
}

/** Posts the demo account made on X before it was connected (xsim's seeding admin API): the
 * first collection imports and measures them at once, as it would an account's real history.
 * Spread over 8 weeks, so that the analytics range and the period before it both have posts. */
async function seedHistoryOnX(count) {
  const user = await demoUser();
  const now = Date.now();
  const r = await fetch(`${platform.xsim}/__admin/users/${user.id}/posts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    // Two days and three hours apart, so that they fall on every weekday at many hours.
    body: JSON.stringify({ count, oldest_ms: now - 2 * DAY_MS - (count - 1) * (2 * DAY_MS + 3 * 3_600_000), newest_ms: now - 2 * DAY_MS }),
  });
  assert(r.status === 201, `xsim seeded the history (${r.status})`);
}

/** Waits until collection has measured the imported posts and read the account once. */
async function waitForCollection(s, ws) {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    const get = (path) => apiCall('GET', path, undefined, s.accessToken, ws);
    const [tweets, best, audience] = await Promise.all([get('/api/analytics/tweets?sort=impressions&limit=100'), get('/api/analytics/best-times'), get('/api/analytics/audience')]);
    const measured = tweets.items.filter((t) => t.impressions > 0).length;
    last = `${measured} measured posts, ${best.cells.length} best-time cells, ${audience.items.length} audience days`;
    if (measured >= 5 && best.cells.length > 0 && audience.items.length > 0) return;
    await sleep(2000);
  }
  throw new Error(`collection did not measure the account's posts: ${last}`);
}

async function csvOf(path, s, ws) {
  const r = await fetch(`${platform.base}${path}`, { headers: { Accept: 'text/csv', Authorization: `Bearer ${s.accessToken}`, 'X-Workspace-ID': ws } });
  assert(r.ok && (r.headers.get('content-type') ?? '').startsWith('text/csv'), `CSV from ${path}: ${r.status} ${r.headers.get('content-type')}`);
  return r.text();
}

const grouped = (n) => new Intl.NumberFormat('en-GB').format(n);
const rowIds = (page) => page.locator('table.analytics-posts tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));

/** The analytics page against the API for the range it asked for (`q`): every card, both
 * charts, the heatmap's cells, the table's order before and after sorting, the CSV export. */
async function checkAnalytics(page, q, s, ws, postText) {
  const get = (path) => apiCall('GET', path, undefined, s.accessToken, ws);
  const overview = await get(`/api/analytics/overview?${q}`);
  await page.locator('.metric data').first().waitFor();
  const cards = await page.locator('.metric').evaluateAll((els) =>
    els.map((e) => ({ label: e.querySelector('.metric-label').textContent, value: e.querySelector('data').getAttribute('value'), text: e.querySelector('data').textContent, change: e.querySelector('.metric-change').textContent })),
  );
  const expected = {
    Impressions: overview.totals.impressions,
    Engagements: overview.totals.engagements,
    'Engagement rate': overview.engagementRate,
    'Followers gained': overview.followersGained,
    'Posts published': overview.postsPublished,
  };
  assert(cards.length === 5, `five overview cards: ${JSON.stringify(cards)}`);
  for (const c of cards) {
    const m = expected[c.label];
    assert(m && Number(c.value) === m.value, `${c.label}: the card holds ${c.value}, the API says ${JSON.stringify(m)}`);
    const shown = c.label === 'Engagement rate' ? `${(m.value * 100).toFixed(2)}%` : grouped(m.value);
    assert(c.text === shown, `${c.label}: the card shows ${c.text}, expected ${shown}`);
  }
  const imp = overview.totals.impressions;
  assert(imp.value > 0 && overview.engagementRate.value > 0 && overview.postsPublished.value >= 2, `real values: ${JSON.stringify(overview)}`);
  assert(imp.previous > 0 && typeof imp.changePercent === 'number', `the previous period has impressions to compare with: ${JSON.stringify(imp)}`);
  const impCard = cards.find((c) => c.label === 'Impressions');
  assert(impCard.change.includes(`${Math.abs(imp.changePercent).toFixed(1)}% vs previous period (${grouped(imp.previous)})`), `impressions change: ${impCard.change} (API ${JSON.stringify(imp)})`);

  // The charts: a bar per bucket, each holding the API's value, some of them visible.
  const engagement = await get(`/api/analytics/engagement?${q}&bucket=day`);
  const charts = page.locator('[data-chart="engagement"] svg.chart');
  await charts.first().waitFor();
  assert((await charts.count()) === 2, 'impressions and engagements charts');
  for (const [i, key] of [[0, 'impressions'], [1, 'engagements']]) {
    const bars = await charts.nth(i).locator('rect.bar').evaluateAll((rs) => rs.map((r) => ({ v: r.dataset.value, h: Number(r.getAttribute('height')) })));
    assert(bars.length === engagement.items.length, `${key}: ${bars.length} bars for ${engagement.items.length} days`);
    bars.forEach((b, j) => assert(Number(b.v) === engagement.items[j][key], `${key} bar ${j}: ${b.v} vs ${engagement.items[j][key]}`));
    assert(bars.some((b) => b.h > 0), `${key}: some bars are drawn`);
  }
  const audience = await get(`/api/analytics/audience?${q}`);
  const followerBars = await page.locator('[data-chart="followers"] rect.bar').evaluateAll((rs) => rs.map((r) => ({ v: r.dataset.value, h: Number(r.getAttribute('height')) })));
  assert(followerBars.length === audience.items.length && followerBars.length > 0, `a follower bar per day with a snapshot (${followerBars.length} vs ${audience.items.length})`);
  followerBars.forEach((b, j) => assert(Number(b.v) === audience.items[j].followers && b.h > 0, `followers bar ${j}: ${JSON.stringify(b)} vs ${audience.items[j].followers}`));

  // The heatmap: every cell the API measured shows its n, and no other cell shows one.
  const best = await get(`/api/analytics/best-times?${q}`);
  assert(best.cells.length > 0, 'best times has cells');
  for (const c of best.cells) {
    const td = page.locator(`table.heatmap tbody tr:nth-child(${c.dayOfWeek}) td:nth-of-type(${c.hour + 1})`);
    const text = await td.textContent();
    assert(text.startsWith(`${c.n} posts, lift`), `heatmap ${c.dayOfWeek}/${c.hour}: "${text}" for n=${c.n}`);
  }
  const filled = await page.locator('table.heatmap tbody td').evaluateAll((tds) => tds.filter((td) => td.textContent.trim() !== '').length);
  assert(filled === best.cells.length, `${filled} heatmap cells filled for ${best.cells.length} API cells`);

  // The posts table: the API's order, then sorted by publication time from the keyboard.
  const byImpressions = await get(`/api/analytics/tweets?${q}&sort=impressions&limit=50`);
  await page.waitForFunction((ids) => JSON.stringify([...document.querySelectorAll('table.analytics-posts tbody tr')].map((tr) => tr.dataset.id)) === JSON.stringify(ids), byImpressions.items.map((t) => t.id));
  const published = page.getByRole('button', { name: 'Published' });
  await published.focus();
  await page.keyboard.press('Enter');
  const byDate = await get(`/api/analytics/tweets?${q}&sort=date&limit=50`);
  await page.waitForFunction((ids) => JSON.stringify([...document.querySelectorAll('table.analytics-posts tbody tr')].map((tr) => tr.dataset.id)) === JSON.stringify(ids), byDate.items.map((t) => t.id));
  assert(JSON.stringify(byDate.items.map((t) => t.id)) !== JSON.stringify(byImpressions.items.map((t) => t.id)), 'the two sorts differ');
  assert((await page.locator('th[aria-sort="descending"]').textContent()).startsWith('Published'), 'the sorted column says so');
  assert(await published.evaluate((b) => b === document.activeElement), 'the header keeps the focus while the table reloads');
  const mine = byDate.items.find((t) => t.text.startsWith(postText.slice(0, 20)));
  assert(mine && mine.postId, `the post just published is listed: ${JSON.stringify(byDate.items.slice(0, 3))}`);
  assert((await rowIds(page)).includes(mine.id), 'and shown');
  return byDate;
}

/** The CSV export of the table as sorted (`byDate`): the API's CSV, byte for byte. */
async function checkExport(page, q, s, ws, byDate) {
  // The export: the API's CSV for the same range and sort, header row first.
  const downloaded = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const download = await downloaded;
  assert(/^posts-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), 'utf8');
  const apiCsv = await csvOf(`/api/analytics/tweets?${q}&sort=date`, s, ws);
  const lines = csv.split('\r\n').filter(Boolean);
  assert(lines[0] === 'id,postId,accountId,imported,text,publishedAt,publishedLocal,impressions,likes,reposts,quotes,replies,bookmarks,urlClicks,profileClicks,engagements,engagementRate,capturedAt', `header row: ${lines[0]}`);
  assert(csv === apiCsv, `the exported file is the API's CSV:\n${csv.slice(0, 300)}\nvs\n${apiCsv.slice(0, 300)}`);
  assert(lines.length === byDate.items.length + 1 && lines[1].startsWith(`${byDate.items[0].id},`), `a row per post in the table's order (${lines.length - 1} rows)`);
}

// ---------------------------------------------------------------- tests

test('a new user registers, connects an account, schedules a thread with an image, drags it to another slot, sees it published and its analytics match the API', async () => {
  const page = await newPage();
  await page.goto(`${platform.base}/login`);
  await axe(page, 'login');
  await shot(page, 'login');
  await page.goto(`${platform.base}/register`);
  await axe(page, 'register');
  await registerInUi(page, 'Ada Planner');

  // The account has a history on X from before it was connected: the first collection after
  // connecting imports and measures it, so analytics has real values by the end.
  await seedHistoryOnX(28);
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
  // Between 23:00 and midnight the post sits in the next day's first row and the slot in
  // today's last: a drag cannot scroll the page, so the whole week is put in view first.
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: viewport.width, height: 3200 });
  await chip.dragTo(slot);
  await page.getByText(/^Moved to/).waitFor();
  await page.setViewportSize(viewport);
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
  // Analytics: the same numbers as the API for the range the page asked for.
  await waitForCollection(s, ws);
  const overviewAsked = page.waitForResponse((r) => r.url().includes('/api/analytics/overview?'));
  await page.goto(`${platform.base}/analytics`);
  const q = new URL((await overviewAsked).url()).search.slice(1);
  const byDate = await checkAnalytics(page, q, s, ws, first);
  await axe(page, 'analytics');
  await shot(page, 'analytics', { fullPage: true });
  await checkExport(page, q, s, ws, byDate);
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

/** Two days ahead at 10:17 UTC: an hour or a day either way is still in the future. */
function twoDaysAhead() {
  const d = new Date(Date.now() + 2 * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 10, 17);
}
const utcSlot = (ms) => new Date(ms).toISOString().slice(0, 13);
const focusedPost = (page) => page.evaluate(() => document.activeElement?.closest('.chip')?.getAttribute('data-post-id') ?? null);

test('a post is moved on the calendar with the keyboard alone, and Enter on it opens it for editing', async () => {
  const page = await newPage();
  await registerInUi(page, 'Kim Keyboard');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const accountId = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0].id;
  const at = twoDaysAhead();
  const text = `Moved with the keys ${unique()}`;
  const post = await apiCall('POST', '/api/tweets', { content: text, accountId, scheduledAt: new Date(at).toISOString() }, s.accessToken, ws);
  await page.goto(`${platform.base}/calendar?tz=UTC&date=${new Date(at).toISOString().slice(0, 10)}`);
  await page.locator(`.chip[data-post-id="${post.id}"]`).waitFor();

  // Tab through the page to the post.
  for (let i = 0; i < 60 && (await focusedPost(page)) !== post.id; i++) await page.keyboard.press('Tab');
  assert((await focusedPost(page)) === post.id, 'Tab reaches the post on the calendar');
  const help = await page.evaluate(() => document.getElementById(document.activeElement.getAttribute('aria-describedby'))?.textContent ?? '');
  assert(help.includes('press Space'), `the post tells how to move it: ${help}`);

  // Space picks it up, two hours later and a day earlier (later if it is the week's Monday), Enter drops it.
  const live = page.getByTestId('calendar-live');
  await page.keyboard.press('Space');
  await live.filter({ hasText: /^Picked up the post at/ }).waitFor();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const monday = new Date(at).getUTCDay() === 1;
  await page.keyboard.press(monday ? 'ArrowRight' : 'ArrowLeft');
  const target = at + 2 * 3_600_000 + (monday ? DAY_MS : -DAY_MS);
  await page.locator(`td.drop[data-slot="${utcSlot(target)}"]`).waitFor();
  const label = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(target));
  await live.filter({ hasText: label }).waitFor();
  await axe(page, 'calendar while moving a post with the keyboard');
  await shot(page, 'calendar-keyboard-move', { keepFocus: true });
  await page.keyboard.press('Enter');
  await page.getByText(/^Moved to/).waitFor();
  const moved = await apiCall('GET', `/api/tweets/${post.id}`, undefined, s.accessToken, ws);
  assert(Date.parse(moved.scheduledAt) === target, `rescheduled to ${moved.scheduledAt}, expected ${new Date(target).toISOString()}`);
  assert(moved.history.some((h) => h.kind === 'rescheduled'), `history records the move: ${JSON.stringify(moved.history)}`);
  await page.locator(`td[data-slot="${utcSlot(target)}"] .chip[data-post-id="${post.id}"]`).waitFor();
  await page.waitForFunction((id) => document.activeElement?.closest('.chip')?.getAttribute('data-post-id') === id, post.id);

  // Escape puts it back where it was, and an edge of the week is announced, not crossed.
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Escape');
  await live.filter({ hasText: /^Move cancelled/ }).waitFor();
  await page.keyboard.press('Space');
  for (let i = 0; i < 7; i++) await page.keyboard.press(monday ? 'ArrowLeft' : 'ArrowRight');
  await live.filter({ hasText: /^The week shown ends here/ }).waitFor();
  await page.keyboard.press('Escape');
  const kept = await apiCall('GET', `/api/tweets/${post.id}`, undefined, s.accessToken, ws);
  assert(Date.parse(kept.scheduledAt) === target && kept.history.filter((h) => h.kind === 'rescheduled').length === 1, `cancelled moves change nothing: ${kept.scheduledAt}`);

  // Enter on the post opens it for editing.
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/compose?edit=${post.id}`);
  await page.getByRole('heading', { name: 'Edit post' }).waitFor();
  assert((await page.getByLabel('Post text').inputValue()) === text, 'the editor holds the post');
  await page.context().close();
});

test('clicking a post on the calendar opens it for editing, and clicking an empty slot starts a post at that time', async () => {
  const page = await newPage();
  await registerInUi(page, 'Cleo Click');
  await connectInUi(page);
  const { s, ws } = await session(page);
  const account = (await apiCall('GET', '/api/accounts', undefined, s.accessToken, ws)).items[0];
  const at = twoDaysAhead();
  const post = await apiCall('POST', '/api/tweets', { content: `Before the edit ${unique()}`, accountId: account.id, scheduledAt: new Date(at).toISOString() }, s.accessToken, ws);
  const calendar = `${platform.base}/calendar?tz=UTC&date=${new Date(at).toISOString().slice(0, 10)}`;
  await page.goto(calendar);
  await page.locator(`.chip[data-post-id="${post.id}"]`).click();
  await page.waitForURL(`**/compose?edit=${post.id}`);
  await page.getByRole('heading', { name: 'Edit post' }).waitFor();
  const edited = `After the edit ${unique()}`;
  await page.getByLabel('Post text').fill(edited);
  await page.getByRole('button', { name: 'Save and schedule' }).click();
  await page.waitForURL('**/calendar?date=*');
  const after = await apiCall('GET', `/api/tweets/${post.id}`, undefined, s.accessToken, ws);
  assert(after.content === edited, `the API has the new text: ${after.content}`);
  assert(Date.parse(after.scheduledAt) === at, `and the same time: ${after.scheduledAt}`);
  await page.locator(`.chip[data-post-id="${post.id}"]`, { hasText: edited }).waitFor();

  // An empty slot, five hours after the post, starts a new post at that hour.
  await page.goto(calendar);
  const slotMs = Math.floor(at / 3_600_000) * 3_600_000 + 5 * 3_600_000;
  const slot = page.locator(`td[data-slot="${utcSlot(slotMs)}"]`);
  assert((await slot.locator('.chip').count()) === 0, 'the slot is empty');
  await slot.click();
  await page.waitForURL('**/compose?at=*');
  await page.getByRole('heading', { name: 'Compose' }).waitFor();
  const zone = account.timezone;
  const local = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(slotMs)).map((p) => [p.type, p.value]));
  const dateInput = page.getByLabel(`Date (${zone})`);
  await page.waitForFunction(([want]) => document.getElementById('compose-date')?.value === want, [`${local.year}-${local.month}-${local.day}`]);
  assert((await page.getByLabel(`Time (${zone})`).inputValue()) === `${local.hour}:${local.minute}`, `the time is the slot's in ${zone}`);
  assert((await dateInput.inputValue()) === `${local.year}-${local.month}-${local.day}`, 'and the date');
  await axe(page, 'compose from an empty calendar slot');
  const text = `Started from a slot ${unique()}`;
  await page.getByLabel('Post text').fill(text);
  await page.getByRole('button', { name: 'Schedule', exact: true }).click();
  await page.waitForURL('**/calendar?date=*');
  const created = (await apiCall('GET', '/api/tweets?status=scheduled', undefined, s.accessToken, ws)).items.find((p) => p.content === text);
  assert(created && Date.parse(created.scheduledAt) === slotMs, `scheduled at the slot: ${created?.scheduledAt}, expected ${new Date(slotMs).toISOString()}`);
  await page.context().close();
});

test('the analytics page says when it cannot load, Try again recovers, and an account without history is an honest empty page', async () => {
  const page = await newPage();
  await registerInUi(page, 'Nia Nodata');
  await page.route(
    '**/api/analytics/overview?*',
    (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ success: false, error: { type: 'SERVICE_UNAVAILABLE', code: 'SYS_001', message: 'The service is unavailable. Try again shortly.' } }) }),
    { times: 1 },
  );
  await page.goto(`${platform.base}/analytics`);
  await page.getByRole('alert').filter({ hasText: 'Analytics could not be loaded' }).waitFor();
  await axe(page, 'analytics when the API fails');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.locator('.metric data').first().waitFor();
  await page.getByText('No impressions in this range yet.').waitFor();
  await page.getByText('No published posts in this range.').waitFor();
  assert((await page.locator('.metric data').first().getAttribute('value')) === '0', 'no impressions is 0, not a dash');
  await axe(page, 'analytics with no data');
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
