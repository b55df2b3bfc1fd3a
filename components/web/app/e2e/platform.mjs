// Starts the platform as `make run` does (scripts/run.sh: xmp + xsim), on free ports with a
// fresh PostgreSQL database, and stops it afterwards.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const PG = { host: process.env.PGHOST ?? '127.0.0.1', port: process.env.PGPORT ?? '5432', user: process.env.PGUSER ?? 'postgres' };
function psql(sql) {
  execFileSync('psql', ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', 'postgres', '-qtAc', sql], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function waitFor(url, ms) {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up: ${last}`);
}

export async function startPlatform() {
  // A platform already running (while developing the app): E2E_BASE and E2E_XSIM.
  if (process.env.E2E_BASE) {
    return { base: process.env.E2E_BASE, xsim: process.env.E2E_XSIM, database: '', stop: () => {}, log: [] };
  }
  const [appPort, xsimPort] = [await freePort(), await freePort()];
  const database = `xmp_e2e_${randomBytes(4).toString('hex')}`;
  psql(`CREATE DATABASE ${database}`);
  const base = `http://127.0.0.1:${appPort}`;
  const xsim = `http://127.0.0.1:${xsimPort}`;
  const log = [];
  const child = spawn('scripts/run.sh', [`127.0.0.1:${appPort}`, `127.0.0.1:${xsimPort}`], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/${database}?sslmode=disable`,
      // Every test user signs up from 127.0.0.1: the per-client login limit would be the
      // only thing tested after a few runs (the key-value store outlives a run).
      SPIN_VARIABLE_LOGIN_LIMIT_PER_CLIENT: '100000',
      SPIN_VARIABLE_LOGIN_LIMIT_PER_EMAIL: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitFor(`${base}/api/health`, 240_000);
    await waitFor(`${xsim}/__admin/health`, 10_000);
  } catch (e) {
    console.error(log.join(''));
    stop();
    throw e;
  }
  function stop() {
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    try {
      psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    } catch {
      // Dropped by someone else or the server is gone; nothing to clean.
    }
  }
  return { base, xsim, database, stop, log };
}
