// `npm run build [-- --outDir DIR --emptyOutDir]`: type-check, bundle, compress, check the budget.
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const run = (cmd, cmdArgs) => execFileSync(cmd, cmdArgs, { stdio: 'inherit' });
run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.']);
run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', ...args]);
run(process.execPath, ['scripts/compress.mjs', ...args]);
