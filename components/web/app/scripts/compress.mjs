// After `vite build`: writes a gzip twin of every text file (the web component sends it when
// the browser accepts gzip) and enforces the budget: the first page's JS + CSS ≤ 150 KB gzipped.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const argIndex = process.argv.indexOf('--outDir');
const dist = argIndex > 0 ? process.argv[argIndex + 1] : 'dist';
const BUDGET = 150 * 1024;
const compressible = /\.(html|js|mjs|css|svg|json|txt|webmanifest|map)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

const sizes = new Map();
for (const file of walk(dist)) {
  if (!compressible.test(file)) continue;
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  sizes.set(relative(dist, file), gz.length);
  if (gz.length < raw.length) writeFileSync(file + '.gz', gz);
}

// The first page loads what index.html references: its scripts, styles and module preloads.
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const total = refs.reduce((sum, ref) => sum + (sizes.get(ref) ?? 0), 0);
console.log(`first page: ${refs.length} files, ${(total / 1024).toFixed(1)} KB gzipped (budget 150 KB)`);
if (total > BUDGET) {
  console.error('first page over budget');
  process.exit(1);
}
