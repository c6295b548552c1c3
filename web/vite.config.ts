/**
 * The explorer page (`npm run web`, `npm run web:build`): a static app in web/, built into
 * web/dist. The dev and preview servers send the cross-origin isolation headers (COOP/COEP) that
 * onnxruntime-web needs for wasm threads; a static host must send them too, else the page runs
 * with one thread.
 *
 * onnxruntime-web is used in its form that loads the wasm runtime (`ort-wasm-simd-threaded.jsep.mjs`
 * and `.wasm`, wasm + WebGPU) from a folder at run time instead of inlining it: its threads then
 * start from that file rather than from our bundle. The plugin below serves that folder as `ort/`
 * in development and copies it into the build; nothing is fetched from a CDN.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const ortDist = resolve(repo, 'node_modules/onnxruntime-web/dist');
/** The runtime files ort.min.mjs loads: wasm with the WebGPU (JSEP) execution provider. */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function onnxruntimeFiles(): Plugin {
  return {
    name: 'backlight:onnxruntime-files',
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
        if (!ORT_FILES.includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        for (const [k, v] of Object.entries(isolation)) res.setHeader(k, v);
        createReadStream(resolve(ortDist, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(resolve(ortDist, name)) });
    },
  };
}

export default defineConfig({
  root: here,
  // Relative URLs: the built folder works from any path of a static host.
  base: './',
  plugins: [onnxruntimeFiles()],
  resolve: {
    alias: [{ find: /^onnxruntime-web$/, replacement: resolve(ortDist, 'ort.min.mjs') }],
  },
  optimizeDeps: { exclude: ['onnxruntime-web'], include: ['onnx-proto'] },
  worker: { format: 'es' },
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation },
  build: { outDir: resolve(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
