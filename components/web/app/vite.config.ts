import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime; no plugin needed. No inline scripts or styles in
// the output (the component's Content-Security-Policy forbids them).
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    sourcemap: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
  test: { include: ['test/**/*.test.ts'] },
} as any);
