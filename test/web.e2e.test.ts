/**
 * The explorer page (web/) in a real browser: builds it with Vite, serves the build with Vite's
 * preview server (COOP/COEP headers, so wasm threads), and drives Debian's Chromium with
 * playwright-core. The page's raw attributions (read from its `window.__backlight` hook) must
 * match Node's for the same input, its error messages must be the command line's, and a run must
 * be cancellable. Saves a screenshot to out/web/explorer.png (BACKLIGHT_WEB_SCREENSHOT overrides,
 * e.g. docs/images/web-explorer.png for the README).
 *
 * A second browser gets WebGPU from SwiftShader (a CPU implementation of Vulkan): the demo model
 * (max-pooling, whose switches are found by ArgMax there: onnxruntime's WebGPU MaxPool has no
 * Indices output) and a model without max-pooling run on WebGPU and match Node. Skipped where
 * Chromium offers no adapter.
 *
 * With ../shared, MobileNetV2 on a photo at 1440×900 and 800 px: the guessed preset, class names
 * and labels files, overlays over the whole photo, enlarging, the whole-figure PNG, the layout;
 * BACKLIGHT_WEB_SCREENSHOTS=docs/images writes web-explorer-1440.png and web-explorer-800.png.
 *
 * Skipped when Chromium is absent (`apt-get install -y chromium`; BACKLIGHT_CHROMIUM names another
 * binary).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraph } from '../src/builder/index.js';
import sharp from 'sharp';
import { decodeNpy } from '../src/io/npy.js';
import { encodeModel } from '../src/onnx/encode.js';
import { cli } from './helpers/cli.js';
import { CHROMIUM, expectNodeResults, FLAGS, HAS_CHROMIUM, QUIET, type PageResult } from './helpers/page.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';
import type {} from '../web/src/hook.js';

const WEBGPU_FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', ...QUIET];
const SCREENSHOT = path.resolve(REPO, process.env.BACKLIGHT_WEB_SCREENSHOT ?? 'out/web/explorer.png');
/** Where the MobileNetV2 screenshots go (web-explorer-1440.png, web-explorer-800.png); docs/images for the README. */
const SCREENSHOTS = path.resolve(REPO, process.env.BACKLIGHT_WEB_SCREENSHOTS ?? 'out/web');
/**
 * MobileNetV2 in the page explains with the gradient only by default (a few seconds); with
 * BACKLIGHT_WEB_FULL=1 or BACKLIGHT_WEB_SCREENSHOTS set, with the page's three default methods.
 */
const MOBILENET_FULL = process.env.BACKLIGHT_WEB_FULL === '1' || process.env.BACKLIGHT_WEB_SCREENSHOTS !== undefined;
const asset = (p: string): string => path.join(REPO, 'assets', p);

/** What the test reads of the page's hook (typed arrays as plain arrays). */
interface PageState {
  status: string;
  error: string | null;
  backend: { providers: string[]; threads: number; simd: boolean; crossOriginIsolated: boolean; fallback?: string } | null;
  input: { data: number[]; dims: number[] } | null;
  targets: number[];
  results: PageResult[];
}

const readState = (page: Page): Promise<PageState> =>
  page.evaluate(() => {
    const h = window.__backlight;
    return {
      status: h.status,
      error: h.error,
      backend: h.backend,
      input: h.input && { data: Array.from(h.input.data), dims: h.input.dims },
      targets: h.targets,
      results: h.results.map((r) => ({ method: r.method, targets: r.targets, params: r.params, dims: r.attribution.dims, data: Array.from(r.attribution.data) })),
    };
  });

const waitForStatus = (page: Page, status: string, timeout = 30_000): Promise<unknown> =>
  page.waitForFunction((s) => window.__backlight?.status === s, status, { timeout });

/** Drops a file with these bytes on an element, as a user dragging it from their desktop. */
async function dropFile(page: Page, selector: string, name: string, bytes: Uint8Array): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, data }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], name));
      return dt;
    },
    { name, data: Array.from(bytes) },
  );
  await page.dispatchEvent(selector, 'drop', { dataTransfer: transfer });
}

/** Waits until the page shows `expected` as its error (and then compares, for a readable failure). */
async function expectPageError(page: Page, expected: string): Promise<void> {
  await page.waitForFunction((t) => window.__backlight.error === t, expected, { timeout: 20_000 }).catch(() => undefined);
  const shown = await page.evaluate(() => ({ hook: window.__backlight.error, text: document.getElementById('error')!.textContent }));
  expect(shown.hook).toBe(expected);
  expect(shown.text).toBe(expected);
}

/** A model whose input takes the demo digits ([1, 1, 28, 28], 10 classes), with or without max-pooling. */
const digitNet = (maxPool: boolean): Uint8Array => encodeModel(buildGraph({ model: 'cnn3', filters: 8, inputSize: 28, channels: 1, kernel: 3, classes: 10, maxPool, seed: 1 }));

/** The command line's error line for a file, as the page names files: by their base name. */
function cliMessage(stderr: string, file: string): string {
  const line = stderr.trim().split('\n')[0]!;
  expect(line.startsWith('backlight: ')).toBe(true);
  return line.slice('backlight: '.length).replaceAll(file, path.basename(file));
}

describe.skipIf(!HAS_CHROMIUM)(`explorer page in Chromium${HAS_CHROMIUM ? '' : ` (skipped: no ${CHROMIUM}; apt-get install -y chromium)`}`, () => {
  let outDir: string;
  let work: string;
  let server: PreviewServer;
  let url: string;
  /** The WebGPU browser starts with the server and loads its page while the wasm tests run. */
  let gpu: Promise<{ browser: Browser; page: Page; adapter: boolean }>;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'backlight-web-build-'));
    work = mkdtempSync(path.join(tmpdir(), 'backlight-web-files-'));
    const configFile = path.join(REPO, 'web/vite.config.ts');
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    url = server.resolvedUrls!.local[0]!;
    gpu = (async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_FLAGS });
      const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
      await page.goto(url);
      const adapter = await page.evaluate(async () => !!(await (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()));
      return { browser, page, adapter };
    })();
    gpu.catch(() => undefined); // reported by the WebGPU tests
  }, 120_000);

  afterAll(async () => {
    await gpu?.then((g) => g.browser.close()).catch(() => undefined);
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('wasm', () => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(url);
      // The page starts with the demo model and digit, explained with its default methods.
      await waitForStatus(page, 'done', 60_000);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('runs on wasm with threads and SIMD in a cross-origin isolated page', async () => {
      const s = await readState(page);
      expect(s.error).toBeNull();
      expect(s.backend).toMatchObject({ providers: ['wasm'], simd: true, crossOriginIsolated: true });
      expect(s.backend!.threads).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#backend').textContent()).toMatch(/^wasm · \d+ threads? · SIMD$/);
    });

    it('explains the demo digit with gradient, Guided Backprop and LRP as Node does (≤ 1e-4)', async () => {
      // A click on the runner-up class adds it as a second target and explains again.
      const before = (await readState(page)).targets;
      await page.locator('#predictions li:nth-child(2) button').click();
      await page.waitForFunction(() => window.__backlight.status === 'done' && window.__backlight.targets.length === 2, null, { timeout: 30_000 });
      const s = await readState(page);
      expect(s.results.map((r) => r.method)).toEqual(['gradient', 'guided-backprop', 'lrp']);
      expect(s.targets[0]).toBe(before[0]);
      expect(s.targets).toHaveLength(2);

      // The input is the first demo digit, exactly.
      const digits = decodeNpy(readFileSync(asset('demo/digits.npy')));
      const per = digits.data.length / digits.dims[0]!;
      expect(s.input!.dims).toEqual([1, ...digits.dims.slice(1)]);
      expect(Float32Array.from(s.input!.data)).toEqual(digits.data.slice(0, per));
      // LRP (gu2018) takes its zB box from the mnist preprocessing, as `backlight explain --preset mnist`.
      expect(s.results[2]!.params).toMatchObject({ composite: 'gu2018', box: { low: [0], high: [1] } });
      await expectNodeResults(s, asset('models/digits-cnn.onnx'));

      // The grid shows a map and an overlay per method and class, with their downloads.
      expect(await page.locator('td.cell canvas').count()).toBe(3 * 2 * 2);
      expect(await page.locator('td.cell .downloads button').count()).toBe(3 * 2 * 3);
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    });

    it('downloads a map as .npy with the raw attribution', async () => {
      const s = await readState(page);
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('td.cell[data-method="gradient"] .downloads button', { hasText: '.npy' }).first().click()]);
      expect(download.suggestedFilename()).toBe(`gradient__${s.targets[0]}.npy`);
      const npy = decodeNpy(readFileSync(await download.path()));
      expect(npy.dims).toEqual([1, 1, 28, 28]);
      expect(Array.from(npy.data)).toEqual(s.results[0]!.data.slice(0, 28 * 28));
    });

    it('cancels a run, then runs again', async () => {
      const methods = page.locator('#methods');
      await methods.locator('input[value="gradcam"]').check();
      expect(await page.locator('#layer-row').isVisible()).toBe(true);
      // Run and cancel at once: the worker is still busy with the first methods.
      await page.evaluate(() => {
        document.getElementById('run')!.click();
        document.getElementById('cancel')!.click();
      });
      await waitForStatus(page, 'cancelled');
      expect((await readState(page)).results.map((r) => r.method)).not.toContain('gradcam');
      // The fresh worker has the model again: a (small) run works.
      for (const m of ['guided-backprop', 'lrp', 'gradcam']) await methods.locator(`input[value="${m}"]`).uncheck();
      expect(await page.locator('#layer-row').isVisible()).toBe(false);
      await page.locator('#run').click();
      await waitForStatus(page, 'done');
      const s = await readState(page);
      expect(s.results.map((r) => r.method)).toEqual(['gradient']);
      expect(s.error).toBeNull();
    });

    it('a file that is not ONNX: the command line\'s message', async () => {
      const file = path.join(work, 'notes.txt');
      writeFileSync(file, 'these are notes, not a model\n');
      const run = await cli('explain', '--model', file, '--input-npy', asset('demo/digits.npy'), '--out', path.join(work, 'out'));
      expect(run.code).toBe(1);
      await dropFile(page, '#model-zone', 'notes.txt', readFileSync(file));
      await expectPageError(page, cliMessage(run.stderr, file));
    });

    it('an unsupported op: the command line\'s message', async () => {
      const g = buildGraph({ model: 'cnn3', filters: 4, inputSize: 28, channels: 1, kernel: 3, classes: 10, seed: 1 });
      g.nodes.find((n) => n.op === 'Relu')!.op = 'Hardmax';
      const file = path.join(work, 'sin.onnx');
      writeFileSync(file, encodeModel(g));
      const run = await cli('explain', '--model', file, '--input-npy', asset('demo/digits.npy'), '--out', path.join(work, 'out'));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no backward rule for op 'Hardmax'/);
      await dropFile(page, 'body', 'sin.onnx', readFileSync(file));
      await expectPageError(page, cliMessage(run.stderr, file));
    });

    it('an image that cannot be decoded: named, with the reason', async () => {
      await dropFile(page, '#input-zone', 'broken.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]));
      await page.waitForFunction(() => window.__backlight.error?.startsWith("cannot decode image 'broken.png'"), null, { timeout: 20_000 }).catch(() => undefined);
      expect((await readState(page)).error).toMatch(/^cannot decode image 'broken\.png': not an image in a supported format \(PNG, JPEG, WebP, GIF, AVIF…\), or the file is damaged$/);
    });

    it('a model whose input size cannot be inferred: the command line\'s message', async () => {
      const g = buildGraph({ model: 'cnn3', filters: 4, inputSize: 28, channels: 1, kernel: 3, classes: 10, seed: 1 });
      g.inputs[0]!.shape = ['batch', 1, 'height', 'width'];
      const file = path.join(work, 'any-size.onnx');
      writeFileSync(file, encodeModel(g));
      const run = await cli('explain', '--model', file, '--image', asset('demo/digit-0-0.png'), '--out', path.join(work, 'out'));
      expect(run.code).toBe(2);
      await dropFile(page, '#model-zone', 'any-size.onnx', readFileSync(file));
      await expectPageError(page, cliMessage(run.stderr, file));
      // With a size the same model runs.
      await page.locator('#size').fill('28');
      await page.locator('#size').dispatchEvent('change');
      await page.waitForFunction(() => window.__backlight.status === 'ready' && window.__backlight.error === null, null, { timeout: 20_000 });
      expect(pageErrors).toEqual([]);
    });
  });

  describe.skipIf(!HAS_SHARED)(`MobileNetV2 and a photo at 1440×900 and 800 px${HAS_SHARED ? '' : ' (skipped: no ../shared)'}`, () => {
    const MODEL = shared('models', 'mobilenetv2-imagenet.onnx');
    const PHOTO = shared('images', 'chelsea.png');
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(url);
      await waitForStatus(page, 'done', 60_000);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('loading MobileNetV2 right after the demo: the preset is guessed, the digits are put away, no shape error', async () => {
      await page.locator('#model-file').setInputFiles(MODEL);
      await page.waitForFunction(() => window.__backlight.model === 'mobilenetv2-imagenet.onnx' && ['ready', 'error'].includes(window.__backlight.status), null, { timeout: 60_000 });
      const s = await readState(page);
      expect(s.error).toBeNull();
      expect(s.input).toBeNull();
      expect(await page.locator('#preset').inputValue()).toBe('imagenet');
      expect(await page.locator('#preset-guess').textContent()).toContain('224×224 RGB, as ImageNet');
      expect(await page.locator('#input-name').textContent()).toBe('– (digits.npy [1, 28, 28] does not fit this model)');
    }, 90_000);

    it(`a photo: ImageNet names, ${MOBILENET_FULL ? 'the default methods' : 'the gradient'} as Node computes ${MOBILENET_FULL ? 'them' : 'it'} (≤ 1e-4), overlays over the whole photo`, async () => {
      const methods = MOBILENET_FULL ? ['gradient', 'guided-backprop', 'lrp'] : ['gradient'];
      for (const m of ['guided-backprop', 'lrp']) if (!methods.includes(m)) await page.locator(`#methods input[value="${m}"]`).uncheck();
      await page.locator('#input-file').setInputFiles(PHOTO);
      await page.waitForFunction(() => window.__backlight.input !== null && window.__backlight.status === 'ready', null, { timeout: 60_000 });
      expect(await page.locator('#predictions li:first-child .label').textContent()).toBe('285 Egyptian cat');
      // The Explain button is in view without scrolling, at 1440×900.
      const run = (await page.locator('#run').boundingBox())!;
      expect(run.y).toBeGreaterThan(0);
      expect(run.y + run.height).toBeLessThanOrEqual(900);
      await page.locator('#run').click();
      await waitForStatus(page, 'done', 180_000);
      const s = await readState(page);
      expect(s.error).toBeNull();
      expect(s.targets).toEqual([285]);
      expect(s.results.map((r) => r.method)).toEqual(methods);
      // Maps at the model's 224×224, shown at a useful size; the input and the overlays at the photo's 451×300.
      const sizes = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLCanvasElement>('#grid canvas')].map((c) => ({ kind: c.dataset.kind, w: c.width, h: c.height, shown: parseFloat(c.style.width) })),
      );
      expect(sizes.filter((c) => c.kind === 'photo').map((c) => [c.w, c.h])).toEqual(new Array(1 + methods.length).fill([451, 300]));
      const maps = sizes.filter((c) => c.kind === 'map');
      expect(maps.map((c) => [c.w, c.h])).toEqual(new Array(methods.length).fill([224, 224]));
      for (const m of maps) expect(m.shown).toBeGreaterThanOrEqual(160);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'web-explorer-1440.png') });
      await expectNodeResults(s, MODEL);
    }, 240_000);

    it('a labels file (opened or dropped) names the classes; one of the wrong length is refused, naming the file', async () => {
      await page.locator('#labels-file').setInputFiles({ name: 'three.txt', mimeType: 'text/plain', buffer: Buffer.from('a\nb\nc\n') });
      await expectPageError(page, "labels file 'three.txt' names 3 classes, but the model has 1000");
      const names = JSON.stringify(Array.from({ length: 1000 }, (_, i) => `name ${i}`));
      // Dropped on the page, a .json file is a labels file too.
      await dropFile(page, 'body', 'names.json', Buffer.from(names));
      await page.waitForFunction(() => document.querySelector('#predictions .label')?.textContent === '285 name 285', null, { timeout: 10_000 });
      expect(await page.evaluate(() => [window.__backlight.error, window.__backlight.status])).toEqual([null, 'done']);
      expect(await page.locator('#grid th.target').first().textContent()).toContain('285 name 285');
      await page.locator('#labels-clear').click();
      expect(await page.locator('#predictions li:first-child .label').textContent()).toBe('285 Egyptian cat');
      expect(await page.locator('#grid th.target').first().textContent()).toContain('285 Egyptian cat');
    });

    it('a click enlarges a map by whole pixels and an overlay smoothly; Escape closes', async () => {
      const shown = () => page.evaluate(() => {
        const d = document.getElementById('lightbox') as HTMLDialogElement;
        const c = d.querySelector('canvas');
        return { open: d.open, w: c ? parseFloat(c.style.width) : 0, natural: c?.width ?? 0, cls: c?.className ?? '' };
      });
      await page.locator('td.cell[data-method="gradient"] canvas[data-kind="map"]').click();
      // Room: 90 % of 1440 − 32 by 85 % of 900 − 64 px: a 224-pixel map at 3× (672 px).
      expect(await shown()).toEqual({ open: true, w: 672, natural: 224, cls: 'pixelated' });
      await page.keyboard.press('Escape');
      expect((await shown()).open).toBe(false);
      await page.locator('td.cell[data-method="gradient"] canvas[data-kind="photo"]').click();
      const photo = await shown();
      expect(photo).toMatchObject({ open: true, natural: 451, cls: 'smooth' });
      expect(photo.w).toBeCloseTo(451 * Math.min((1440 * 0.9 - 32) / 451, (900 * 0.85 - 64) / 300), 0);
      await page.keyboard.press('Escape');
      expect((await shown()).open).toBe(false);
    });

    it('exports the whole figure as one PNG: the tiles with their labels and colorbars', async () => {
      const grid = await page.evaluate(() => {
        const box = (sel: string) => document.querySelector<HTMLElement>(sel)!.getBoundingClientRect();
        const tiles = [...document.querySelectorAll<HTMLCanvasElement>('#grid tr:nth-child(2) canvas')].reduce((w, c) => w + c.getBoundingClientRect().width, 0);
        const rows = document.querySelectorAll('#grid tr').length - 1;
        return { tiles, rows, tile: box('td.cell canvas').height, table: { w: box('#grid table').width, h: box('#grid table').height } };
      });
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#save-figure').click()]);
      expect(download.suggestedFilename()).toBe('backlight-figure.png');
      const png = readFileSync(await download.path());
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      // Drawn at twice the page's size: wider than the tiles of a row, taller than the rows of tiles — the labels and colorbars add to both.
      expect(meta.width!).toBeGreaterThan(2 * grid.tiles);
      expect(meta.height!).toBeGreaterThan(2 * grid.rows * grid.tile);
      expect(meta.width! / 2).toBeGreaterThan(grid.table.w * 0.8);
      const stats = await sharp(png).stats();
      expect(stats.channels.slice(0, 3).every((c) => c.stdev > 10)).toBe(true);
    });

    it('at 800 px wide: the page does not overflow sideways, the grid is sized to fit or scrolls in its own box', async () => {
      await page.setViewportSize({ width: 800, height: 1000 });
      await page.waitForFunction(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth, null, { timeout: 5_000 }).catch(() => undefined);
      await page.waitForTimeout(500); // the grid is drawn again for the new width
      const layout = await page.evaluate(() => {
        const grid = document.getElementById('grid')!;
        return { page: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, gridRight: grid.getBoundingClientRect().right, gridOverflow: getComputedStyle(grid).overflowX, fits: grid.scrollWidth <= grid.clientWidth };
      });
      expect(layout.page).toBeLessThanOrEqual(layout.client);
      expect(layout.gridRight).toBeLessThanOrEqual(800);
      expect(layout.fits || layout.gridOverflow === 'auto').toBe(true);
      expect(layout.fits).toBe(true); // one target: tiles shrink to fit (≥ 160 px)
      await page.screenshot({ path: path.join(SCREENSHOTS, 'web-explorer-800.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
    });
  });

  describe('WebGPU (SwiftShader)', () => {
    let page: Page;
    let adapter = false;

    beforeAll(async () => {
      ({ page, adapter } = await gpu);
      if (adapter) await page.waitForFunction(() => ['done', 'error'].includes(window.__backlight?.status), null, { timeout: 60_000 });
    }, 120_000);

    it('the demo model (max-pooling: switches by ArgMax on WebGPU) runs on WebGPU and matches Node', async (ctx) => {
      ctx.skip(!adapter, 'this Chromium offers no WebGPU adapter (SwiftShader)');
      const s = await readState(page);
      expect(s.status).toBe('done');
      expect(s.backend).toMatchObject({ providers: ['webgpu', 'wasm'] });
      expect(s.backend!.fallback).toBeUndefined();
      await expectNodeResults(s, asset('models/digits-cnn.onnx'));
    });

    it('a model without max-pooling runs on WebGPU and matches Node', async (ctx) => {
      ctx.skip(!adapter, 'this Chromium offers no WebGPU adapter (SwiftShader)');
      const model = digitNet(false);
      await dropFile(page, '#model-zone', 'cnn.onnx', model);
      await page.waitForFunction(() => window.__backlight.model === 'cnn.onnx' && window.__backlight.status === 'ready', null, { timeout: 30_000 });
      await page.locator('#run').click();
      await waitForStatus(page, 'done');
      const s = await readState(page);
      expect(s.backend).toMatchObject({ providers: ['webgpu', 'wasm'] });
      expect(s.backend!.fallback).toBeUndefined();
      expect(await page.locator('#backend').textContent()).toMatch(/^WebGPU \(wasm · \d+ threads? · SIMD for the rest\)$/);
      expect(s.results.map((r) => r.method)).toEqual(['gradient', 'guided-backprop', 'lrp']);
      await expectNodeResults(s, model);
    });
  });
});
