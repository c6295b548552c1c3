/**
 * A browser app as a consumer builds it: the packed tarball and onnxruntime-web installed in a
 * fresh folder (nothing else: no onnxruntime-node, no sharp), a minimal app importing
 * `backlight/web` with no bundler configuration, a Vite production build, served with the COOP/COEP
 * headers the README asks for, run in Chromium with 4 wasm threads. The attributions must equal
 * Node's (onnxruntime-node on the same input) to 1e-4, the page must be cross-origin isolated and
 * onnxruntime-web must have started its thread workers from its own runtime file (a bundle that
 * starts them from the app's chunk hangs: docs/design/packaging.md). With ../shared, MobileNetV2
 * explains a photo decoded and preprocessed in the browser too. With BACKLIGHT_CONSUMER_WEBPACK=1,
 * the same app is built by webpack 5 and checked the same way.
 *
 * The same install is the browser user's: Node's entry and the bin must say in one line what to
 * install. Runs with BACKLIGHT_CONSUMER=1 (`npm run test:consumer`: about 2 min on the 2-core CI
 * machine); skipped when Chromium is absent (BACKLIGHT_CHROMIUM names another binary).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, createServer as createViteServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Explainer, loadImage, preprocess } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import { relL2 } from './helpers/compare.js';
import { CONSUMER_TESTS, installConsumer, packedTarball } from './helpers/pack.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const CHROMIUM = process.env.BACKLIGHT_CHROMIUM ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const THREADS = 4;
/** The onnxruntime-web this checkout tests with (and npm has cached). */
const ORT_WEB_VERSION = (JSON.parse(readFileSync(path.join(REPO, 'node_modules/onnxruntime-web/package.json'), 'utf8')) as { version: string }).version;

/** The consumer's whole app: what a user writes, no bundler configuration. */
const MAIN_JS = `import { Explainer, loadImage, ortEnv, preprocess } from 'backlight/web';

const query = new URLSearchParams(location.search);
ortEnv.wasm.numThreads = Number(query.get('threads'));
const bytes = (url) => fetch(url).then((r) => r.arrayBuffer());
try {
  const digits = await (await fetch('./digits.json')).json();
  const ex = await Explainer.load(await bytes('./digits.onnx'));
  const a = await ex.explain({ data: Float32Array.from(digits.data), dims: digits.dims }, { method: 'guided-backprop', target: 'max' });
  const result = { crossOriginIsolated, threads: ortEnv.wasm.numThreads, digits: { targets: a.targets, data: Array.from(a.attribution.data) } };
  if (query.has('photo')) {
    const image = await loadImage(await (await fetch('./photo.png')).blob());
    const { tensor } = preprocess(image, 'imagenet');
    const net = await Explainer.load(await bytes('./mobilenetv2.onnx'));
    const b = await net.explain(tensor, { method: 'guided-backprop', target: 'max' });
    result.photo = { input: Array.from(tensor.data), targets: b.targets, data: Array.from(b.attribution.data) };
  }
  window.result = result;
} catch (e) {
  window.result = { error: String(e && e.message ? e.message : e) };
}
`;

interface PageResult {
  error?: string;
  crossOriginIsolated: boolean;
  threads: number;
  digits: { targets: number[][]; data: number[] };
  photo?: { input: number[]; targets: number[][]; data: number[] };
}

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png' };

/** A static server for the built app with the cross-origin isolation headers. */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname).replace(/\/$/, '/index.html');
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', ...ISOLATION });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(!CONSUMER_TESTS || !HAS_CHROMIUM)('a Vite app built from the packed tarball', () => {
  let app = '';
  let browser: Browser;
  const digits = decodeNpy(readFileSync(path.join(REPO, 'assets/demo/digits.npy')));
  const digitsInput = { data: digits.data.slice(0, 2 * 28 * 28) as Float32Array, dims: [2, 1, 28, 28] };

  beforeAll(async () => {
    app = installConsumer(await packedTarball(), [`onnxruntime-web@${ORT_WEB_VERSION}`], 'backlight-vite-');
    mkdirSync(path.join(app, 'public'));
    writeFileSync(path.join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><title>consumer</title><script type="module" src="./main.js"></script>\n');
    writeFileSync(path.join(app, 'main.js'), MAIN_JS);
    writeFileSync(path.join(app, 'public/digits.onnx'), readFileSync(path.join(REPO, 'assets/models/digits-cnn.onnx')));
    writeFileSync(path.join(app, 'public/digits.json'), JSON.stringify({ data: Array.from(digitsInput.data), dims: digitsInput.dims }));
    if (HAS_SHARED) {
      writeFileSync(path.join(app, 'public/mobilenetv2.onnx'), readFileSync(shared('models/mobilenetv2-imagenet.onnx')));
      writeFileSync(path.join(app, 'public/photo.png'), readFileSync(shared('images/chelsea.png')));
    }
    // Vite from this checkout, run on the consumer's folder: it resolves `backlight/web` and
    // onnxruntime-web from the consumer's node_modules, as the consumer's own Vite would.
    await build({ root: app, configFile: false, logLevel: 'error', build: { outDir: path.join(app, 'dist') } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('installs neither onnxruntime-node nor sharp for a browser app', () => {
    const installed = readdirSync(path.join(app, 'node_modules'));
    expect(installed).toContain('backlight');
    expect(installed).toContain('onnxruntime-web');
    expect(installed).not.toContain('onnxruntime-node');
    expect(installed).not.toContain('sharp');
  });

  it('says in one line what to install when the Node entry or the bin is used without its peers', () => {
    const line = 'onnxruntime-node is not installed: npm install onnxruntime-node sharp';
    const api = spawnSync(process.execPath, ['--input-type=module', '-e', "import { Explainer } from 'backlight'; try { await Explainer.load('m.onnx'); } catch (e) { console.log(e.name + ': ' + e.message); }"], { cwd: app, encoding: 'utf8' });
    expect(api.stderr).toBe('');
    expect(api.stdout).toBe(`BacklightError: ${line}\n`);
    const bin = spawnSync(path.join(app, 'node_modules/.bin/backlight'), ['demo'], { cwd: app, encoding: 'utf8' });
    expect(bin.stderr).toBe(`backlight: ${line}\n`);
    expect(bin.stdout).toBe('');
    expect(bin.status).toBe(1);
  });

  /** Opens a built app in Chromium (served with COOP/COEP) and returns what it computed. */
  async function runApp(dist: string): Promise<{ r: PageResult; workers: string[]; errors: string[] }> {
    const server = await serve(dist);
    try {
      return await openApp(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    } finally {
      server.close();
    }
  }

  async function openApp(url: string): Promise<{ r: PageResult; workers: string[]; errors: string[] }> {
    {
      const page = await browser.newPage();
      const workers: string[] = [];
      const errors: string[] = [];
      page.on('worker', (w) => workers.push(new URL(w.url()).pathname));
      page.on('pageerror', (e) => errors.push(e.message));
      const query = `threads=${THREADS}${HAS_SHARED ? '&photo' : ''}`;
      await page.goto(`${url}?${query}`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 120_000 });
      const r = await page.evaluate(() => (window as unknown as { result: PageResult }).result);
      await page.close();
      return { r, workers, errors };
    }
  }

  /** The app's results against Node's (onnxruntime-node on the same inputs). */
  async function expectAsNode(r: PageResult): Promise<void> {
    const ex = await Explainer.load(path.join(REPO, 'assets/models/digits-cnn.onnx'), { threads: 1 });
    const node = await ex.explain(digitsInput, { method: 'guided-backprop', target: 'max' });
    expect(r.digits.targets).toEqual(node.targets);
    expect(relL2(r.digits.data, node.attribution.data)).toBeLessThan(1e-4);
    if (HAS_SHARED) {
      // The browser decoded and preprocessed the photo: the same tensor as Node's sharp path.
      const { tensor } = preprocess(await loadImage(shared('images/chelsea.png')), 'imagenet');
      expect(relL2(r.photo!.input, tensor.data)).toBe(0);
      const net = await Explainer.load(shared('models/mobilenetv2-imagenet.onnx'), { threads: 1 });
      const ref = await net.explain(tensor, { method: 'guided-backprop', target: 'max' });
      expect(r.photo!.targets).toEqual(ref.targets);
      expect(relL2(r.photo!.data, ref.attribution.data)).toBeLessThan(1e-4);
    }
  }

  it(`explains in Chromium with ${THREADS} threads, cross-origin isolated, as Node does`, async () => {
    const { r, workers, errors } = await runApp(path.join(app, 'dist'));
    expect(r.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.threads).toBe(THREADS);
    // The calling thread and THREADS − 1 workers, each running onnxruntime-web's runtime file
    // (emitted by Vite as an asset), not the app's chunk.
    expect(workers).toHaveLength(THREADS - 1);
    for (const w of workers) expect(w).toMatch(/^\/assets\/ort-wasm-simd-threaded\.jsep-[\w-]+\.mjs$/);
    await expectAsNode(r);
  }, 300_000);

  it(`runs in the Vite dev server too (${THREADS} threads)`, async () => {
    // Its dependency pre-bundling leaves the runtime files' URLs unresolved: onnxruntime-web's
    // default must be kept there (a first version of src/runtime/ortWebFiles.ts broke this).
    const dev = await createViteServer({ root: app, configFile: false, logLevel: 'error', server: { port: 0, host: '127.0.0.1', headers: ISOLATION } });
    await dev.listen();
    try {
      const { r, workers, errors } = await openApp(dev.resolvedUrls!.local[0]!);
      expect(r.error).toBeUndefined();
      expect(errors).toEqual([]);
      expect([r.crossOriginIsolated, r.threads, workers.length]).toEqual([true, THREADS, THREADS - 1]);
      await expectAsNode(r);
    } finally {
      await dev.close();
    }
  }, 300_000);

  // webpack is installed from npm's cache or the registry (about 90 s more): with BACKLIGHT_CONSUMER_WEBPACK=1.
  it.skipIf(process.env.BACKLIGHT_CONSUMER_WEBPACK !== '1')('the same app built by webpack 5, no configuration for onnxruntime-web', async () => {
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', 'webpack@5', 'webpack-cli@6'], { cwd: app, stdio: 'pipe', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    const out = path.join(app, 'dist-webpack');
    mkdirSync(out);
    for (const f of readdirSync(path.join(app, 'public'))) writeFileSync(path.join(out, f), readFileSync(path.join(app, 'public', f)));
    writeFileSync(path.join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>consumer</title><script src="./main.js"></script>\n');
    execFileSync(path.join(app, 'node_modules/.bin/webpack'), ['--mode', 'production', '--entry', './main.js', '--output-path', out, '--output-filename', 'main.js'], { cwd: app, stdio: 'pipe' });
    const { r, workers, errors } = await runApp(out);
    expect(r.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect([r.crossOriginIsolated, r.threads]).toEqual([true, THREADS]);
    expect(workers).toHaveLength(THREADS - 1);
    for (const w of workers) expect(w).toMatch(/^\/\w+\.mjs$/); // an emitted runtime file, not main.js
    await expectAsNode(r);
  }, 600_000);
});
