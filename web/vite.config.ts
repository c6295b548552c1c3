/**
 * The explorer page (`npm run web`, `npm run web:build`): a static app in web/, built into
 * web/dist. The dev and preview servers send the cross-origin isolation headers (COOP/COEP) that
 * onnxruntime-web needs for wasm threads; a static host must send them too, else the page runs
 * with one thread.
 *
 * Nothing else is configured for onnxruntime-web: `backlight/web` (src/web.ts) names its runtime
 * files with `new URL(…, import.meta.url)`, which Vite copies into the build, so its threads start
 * from that file rather than from our bundle (docs/design/packaging.md). It is left out of the
 * dev server's dependency pre-bundling, which would move its files away from the ones it names.
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here,
  // Relative URLs: the built folder works from any path of a static host.
  base: './',
  optimizeDeps: { exclude: ['onnxruntime-web'], include: ['onnx-proto'] },
  worker: { format: 'es' },
  // node_modules by its real path too: a linked node_modules lies outside the repository, and the
  // dev server serves onnxruntime-web's runtime file from there.
  server: { headers: isolation, fs: { allow: [repo, realpathSync(resolve(repo, 'node_modules'))] } },
  preview: { headers: isolation },
  build: { outDir: resolve(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
