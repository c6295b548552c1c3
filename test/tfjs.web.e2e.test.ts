/**
 * The explorer page takes the shared TF.js MobileNet as a user gives it: model.json and its 55
 * shards picked together. Built and served as test/web.e2e.test.ts does, driven in Debian's
 * Chromium; the page's gradient equals Node's (model.json loaded by path) to 1e-4 of its largest
 * value. Skipped without Chromium or ../shared.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';
import type {} from '../web/src/hook.js';

const CHROMIUM = process.env.BACKLIGHT_CHROMIUM ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const JSON_PATH = shared('models', 'mobilenet-v1-0.25-imagenet-tfjs', 'mobilenet_model.json');

describe.skipIf(!HAS_CHROMIUM || !HAS_SHARED)('explorer page with a TF.js model in Chromium', () => {
  let outDir: string;
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'backlight-web-tfjs-'));
    const configFile = path.join(REPO, 'web/vite.config.ts');
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => window.__backlight?.status === 'done', null, { timeout: 60_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('model.json with its shards: imported, preset imagenet-tf guessed, the gradient equals Node (≤ 1e-4)', async () => {
    const j = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const files = [JSON_PATH, ...j.weightsManifest.flatMap((g) => g.paths).map((p) => path.join(path.dirname(JSON_PATH), p))];
    await page.locator('#model-file').setInputFiles(files);
    await page.waitForFunction(() => window.__backlight.model === 'mobilenet_model.json' && ['ready', 'error'].includes(window.__backlight.status), null, { timeout: 90_000 });
    expect(await page.evaluate(() => window.__backlight.error)).toBeNull();
    // Imported with an NCHW input, so that every method (the layer-map ones too) runs in the page.
    expect(await page.locator('#model-shape').textContent()).toBe("input 'input_1' [N, 3, 224, 224]");
    expect(await page.locator('#preset').inputValue()).toBe('imagenet-tf');

    for (const m of ['guided-backprop', 'lrp']) await page.locator(`#methods input[value="${m}"]`).uncheck();
    await page.locator('#input-file').setInputFiles(shared('images', 'coffee.png'));
    await page.waitForFunction(() => window.__backlight.input !== null && window.__backlight.status === 'ready', null, { timeout: 60_000 });
    expect(await page.locator('#predictions li:first-child .label').textContent()).toBe('967 espresso');
    await page.locator('#run').click();
    await page.waitForFunction(() => ['done', 'error'].includes(window.__backlight.status), null, { timeout: 180_000 });
    const s = await page.evaluate(() => {
      const h = window.__backlight;
      return {
        error: h.error,
        targets: h.targets,
        input: h.input && { data: Array.from(h.input.data), dims: h.input.dims },
        results: h.results.map((r) => ({ method: r.method, targets: r.targets, dims: r.attribution.dims, data: Array.from(r.attribution.data) })),
      };
    });
    expect(s.error).toBeNull();
    expect(s.targets).toEqual([967]);
    expect(s.results.map((r) => r.method)).toEqual(['gradient']);
    // Node: the model.json by its path, NHWC as TF.js feeds it; the page's NCHW input and attribution transposed.
    const ex = await Explainer.load(JSON_PATH);
    expect(s.input!.dims).toEqual([1, 3, 224, 224]);
    const hw = 224 * 224;
    const nhwc = new Float32Array(3 * hw);
    for (let c = 0; c < 3; c++) for (let p = 0; p < hw; p++) nhwc[p * 3 + c] = s.input!.data[c * hw + p]!;
    const ref = await ex.explain({ data: nhwc, dims: [1, 224, 224, 3] }, { method: 'gradient', target: 967 });
    expect(s.results[0]!.dims).toEqual([1, 1, 3, 224, 224]);
    expect(ref.attribution.dims).toEqual([1, 1, 224, 224, 3]);
    let worst = 0;
    let scale = 0;
    ref.attribution.data.forEach((v, i) => {
      const page = s.results[0]!.data[(i % 3) * hw + Math.floor(i / 3)]!;
      worst = Math.max(worst, Math.abs(v - page));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThanOrEqual(1e-4);
    expect(pageErrors).toEqual([]);
  }, 360_000);
});
