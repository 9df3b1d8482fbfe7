import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';

// The dev server proxies the API and the WebSocket to a Colloquy server on port 8080
// (start one with ./deploy/run.sh or build/server/colloquy).
const backend = process.env.COLLOQUY_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [preact()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never inline assets as data: URLs into scripts/styles; keep everything same-origin files.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/ws': { target: backend, ws: true, changeOrigin: false },
      '/api': { target: backend, changeOrigin: false },
      '/healthz': { target: backend, changeOrigin: false },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
