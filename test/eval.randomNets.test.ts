/**
 * Nie et al.'s random-network experiments (src/eval/randomNets.ts, `backlight eval random-nets`):
 * the recovery claims on the built-in digits with fixed seeds, the sweep's outputs, usage errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/models.js';
import { asset } from '../src/cli/demo.js';
import { measureRandomNet, randomNetSpec, type RandomNetKind, type RandomNetsRow } from '../src/eval/randomNets.js';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import type { TensorLike } from '../src/methods/explainer.js';
import { cli } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-random-nets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function digits(n: number): Promise<TensorLike> {
  const all = decodeNpy(await readFile(asset('demo/digits.npy')));
  const [, c, h, w] = all.dims as [number, number, number, number];
  return { data: all.data.slice(0, n * c * h * w), dims: [n, c, h, w] };
}

/** Mean recovery (Pearson r) of each method on a random net. */
async function recovery(kind: RandomNetKind, width: number, x: TensorLike): Promise<Record<string, number>> {
  const [, c, size] = x.dims as [number, number, number];
  const ex = await Explainer.load(buildModel(randomNetSpec(kind, { size, channels: c, width, seed: 1 })), { threads: 1 });
  const ms = await measureRandomNet(ex, x, ['gradient', 'deconvnet', 'guided-backprop'], 'top2', 4);
  await ex.release();
  return Object.fromEntries(ms.map((m) => [m.method, m.recovery.reduce((a, r) => a + r.pearson, 0) / m.recovery.length]));
}

describe('random networks (Nie et al.)', () => {
  it('builds the papers\' networks', () => {
    expect(randomNetSpec('cnn', { size: 64, channels: 3, width: 32, seed: 2 })).toEqual({ model: 'cnn3', inputSize: 64, channels: 3, seed: 2, init: { kind: 'truncated-normal', std: 0.1 }, filters: 32 });
    expect(randomNetSpec('cnn-maxpool', { size: 64, channels: 3, width: 32, seed: 2 })).toMatchObject({ model: 'cnn3', maxPool: true });
    expect(randomNetSpec('fcn', { size: 28, channels: 1, width: 100, seed: 0 })).toMatchObject({ model: 'fcn3', hidden: 100, inputSize: 28 });
  });

  it('GBP recovers the digits in a random CNN, not in a random FCN; DeconvNet only with max-pooling; the gradient never', async () => {
    const x = await digits(8);
    const cnn = await recovery('cnn', 128, x);
    const pool = await recovery('cnn-maxpool', 128, x);
    const fcn = await recovery('fcn', 256, x);
    expect(cnn['guided-backprop']).toBeGreaterThan(0.7);
    expect(fcn['guided-backprop']).toBeLessThan(0.4);
    expect(cnn['guided-backprop']).toBeGreaterThan(fcn['guided-backprop']! + 0.3);
    expect(pool.deconvnet).toBeGreaterThan(0.4);
    expect(cnn.deconvnet).toBeLessThan(0.2);
    for (const r of [cnn, pool, fcn]) expect(Math.abs(r.gradient!)).toBeLessThan(0.2);
  });

  it('DeconvNet without max-pooling ignores the input entirely; max-pooling brings it in (§3.2.1)', async () => {
    // Its backward pass gates on the signal only (no forward masks), so without max-pooling
    // switches the attribution of a class is the same for every image.
    const x = await digits(2);
    const per = 28 * 28;
    for (const kind of ['cnn', 'cnn-maxpool'] as const) {
      const ex = await Explainer.load(buildModel(randomNetSpec(kind, { size: 28, channels: 1, width: 32, seed: 1 })), { threads: 1 });
      const r = await ex.explain(x, { method: 'deconvnet', target: 3, reductions: [] });
      await ex.release();
      const [a, b] = [r.attribution.data.subarray(0, per), r.attribution.data.subarray(per)];
      if (kind === 'cnn') expect(Array.from(a)).toEqual(Array.from(b));
      else expect(Array.from(a).filter((v, i) => v !== b[i]).length).toBeGreaterThan(per / 4);
    }
  });

  it('explains in fixed-size batches: padding the last one (3 images in batches of 2) changes nothing', async () => {
    const x = await digits(3);
    const ex = await Explainer.load(buildModel(randomNetSpec('cnn', { size: 28, channels: 1, width: 16, seed: 3 })), { threads: 1 });
    const [a] = await measureRandomNet(ex, x, ['guided-backprop'], 'top2', 2);
    const [b] = await measureRandomNet(ex, x, ['guided-backprop'], 'top2');
    await ex.release();
    expect(Array.from(a!.attribution)).toEqual(Array.from(b!.attribution));
    expect(a!.recovery.map((r) => r.pearson)).toEqual(b!.recovery.map((r) => r.pearson));
  });
});

describe('eval random-nets', () => {
  it('sweeps N and N_h on the built-in digits and writes the report', async () => {
    const out = join(dir, 'digits');
    const r = await cli('eval', 'random-nets', '--filters', '8,64', '--hidden', '64,256', '--seeds', '2', '--limit', '6', '--figures', '1', '--threads', '1', '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { networks: number; images: number; rows: RandomNetsRow[] };
    expect(report.networks).toBe((2 * 2 + 2) * 2);
    expect(report.images).toBe(6);
    expect(report.rows).toHaveLength(6 * 3);
    for (const row of report.rows) expect(row.pearson.n).toBe(12);
    for (const f of ['results.json', 'summary.json', 'summary.csv', 'recovery.png', 'recovery-ssim.png', 'maps-0.png', 'sweep-cnn-0.png', 'sweep-fcn-0.png', 'index.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const rec = (net: string, width: number, m: string) => report.rows.find((x) => x.net === net && x.width === width && x.method === m)!.pearson.mean;
    expect(rec('cnn', 64, 'guided-backprop')).toBeGreaterThan(rec('cnn', 8, 'guided-backprop'));
    expect(rec('cnn', 64, 'guided-backprop')).toBeGreaterThan(rec('fcn', 256, 'guided-backprop'));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { runs: { pearson: number[] }[] };
    expect(results.runs).toHaveLength(report.networks * 3);
    expect(results.runs[0]!.pearson).toHaveLength(6);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const f of ['recovery.png', 'maps-0.png', 'sweep-fcn-0.png']) expect(html).toContain(`src="${f}"`);
  });

  it('takes a folder of images (resized, ImageNet normalization)', async () => {
    const data = join(dir, 'images');
    mkdirSync(data);
    const labels = [];
    for (let i = 0; i < 2; i++) {
      const rgb = Buffer.alloc(40 * 40 * 3);
      for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 7 + i * 50 + ((k >> 6) % 5) * 40) % 256;
      await sharp(rgb, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(data, `p${i}.png`));
      labels.push({ file: `p${i}.png`, label: 0 });
    }
    writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
    const out = join(dir, 'folder');
    const r = await cli('eval', 'random-nets', '--data', data, '--size', '32', '--filters', '16', '--hidden', '64', '--seeds', '1', '--vgg', '--figures', '1', '--threads', '1', '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.config.images).toMatchObject({ channels: 3, size: 32, files: ['p0.png', 'p1.png'] });
    expect(summary.config.images.preprocess.mean).toEqual([0.485, 0.456, 0.406]);
    expect(summary.rows.filter((x: RandomNetsRow) => x.net === 'vgg16')).toHaveLength(3);
  });

  const bad: [string[], RegExp, number][] = [
    [['--filters', '8,x'], /--filters '8,x' must be a comma-separated list of positive integers/, 2],
    [['--hidden', '0'], /--hidden '0' must be a comma-separated list/, 2],
    [['--seeds', '0'], /--seeds '0' must be an integer ≥ 1/, 2],
    [['--size', '32'], /apply to --data images; the built-in digits are 28×28/, 2],
    [['--vgg'], /--vgg needs inputs of at least 32×32 pixels/, 2],
    [['--hidden', '400000'], /--hidden 400000: an FCN with 400000 hidden units on 1×28×28 inputs/, 2],
    [['--method', 'nope'], /unknown method 'nope' for eval random-nets/, 2],
  ];
  for (const [extra, message, code] of bad) {
    it(`refuses ${extra.join(' ')}`, async () => {
      const r = await cli('eval', 'random-nets', '--out', join(dir, 'bad'), ...extra);
      expect(r.code).toBe(code);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(dir, 'bad', 'index.html'))).toBe(false);
    });
  }
});
