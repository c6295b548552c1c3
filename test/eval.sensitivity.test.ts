/**
 * `backlight eval sensitivity` on synthetic images: records against maps computed again one class
 * at a time (so K-target batching cannot hide a mix-up), the pairs' classes against the logits and
 * the seeded draw, a hand-made model whose classes all share one map (l2 = 0, ρ = 1), the summary
 * against the records, CSV/figures/HTML, resume and shards + merge, usage errors.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import { mapDistance, mapOf, paramsOf, reductionOf } from '../src/eval/maps.js';
import { runEvaluation } from '../src/eval/runner.js';
import { CSV_HEADER } from '../src/eval/report.js';
import { imageSeed } from '../src/eval/runner.js';
import { summarizeSensitivity, type SensitivityRecord, type SensitivitySummary } from '../src/eval/sensitivity.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { encodeModel } from '../src/onnx/encode.js';
import { intAttr } from '../src/ir/graph.js';
import { classSensitivitySpearman, normalizedL2Distance } from '../src/metrics/classSensitivity.js';
import { mulberry32, randomPair } from '../src/metrics/random.js';
import { summarize } from '../src/metrics/stats.js';
import { cli } from './helpers/cli.js';
import { TinyGraphBuilder } from './reference/tinyModels.js';

const SIZE = 24;
const CLASSES = 6;
const METHODS = ['gradient', 'guided-backprop', 'lrp', 'clrp2', 'gradcam'] as const;
let dir: string;
let data: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-sens-'));
  data = join(dir, 'data');
  mkdirSync(data);
  const labels: { file: string; label: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const rgb = Buffer.alloc(SIZE * SIZE * 3);
    for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 53 + i * 97 + ((k * k) % 23) * 11) % 256;
    const file = `s${i}.png`;
    await sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(join(data, file));
    labels.push({ file, label: i % CLASSES });
  }
  writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
  model = join(dir, 'cnn3.onnx');
  writeFileSync(model, buildModel({ model: 'cnn3', inputSize: SIZE, filters: 6, kernel: 3, stride: 1, pad: 1, maxPool: true, classes: CLASSES, seed: 11, bias: 'random' }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (out: string, ...extra: string[]) => ['eval', 'sensitivity', '--model', model, '--data', data, '--out', out, '--method', METHODS.join(','), '--threads', '1', '--quiet', ...extra];
const readRecords = (file: string): SensitivityRecord[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as SensitivityRecord);
const readSummary = (out: string): SensitivitySummary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).summary;

describe('eval sensitivity', () => {
  let out: string;
  let records: SensitivityRecord[];

  beforeAll(async () => {
    out = join(dir, 'a');
    const r = await cli(...args(out, '--batch', '2', '--seed', '3'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    records = readRecords(join(out, 'results.jsonl'));
  });

  it('compares the maps of the random, max/min and top-2 classes, as computed one class at a time', async () => {
    expect(records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    const explainer = await Explainer.load(model, { threads: 1 });
    const p = resolvePreprocess('none', {}, explainer.inputShape);
    let negativeLogits = 0;
    for (const r of records) {
      const img = await loadImage(join(data, r.file), p);
      const logits = Array.from((await explainer.predict(img.tensor)).data);
      const desc = logits.map((_, c) => c).sort((a, b) => logits[b]! - logits[a]!);
      expect(r.predicted).toBe(desc[0]);
      expect(r.classes.maxmin).toEqual([desc[0], desc[CLASSES - 1]]);
      expect(r.classes.top2).toEqual([desc[0], desc[1]]);
      expect(r.classes.random).toEqual(randomPair(mulberry32(imageSeed(3, r.index)), CLASSES));
      if (logits[desc[CLASSES - 1]!]! < 0) negativeLogits++;
      for (const method of METHODS) {
        const mapFor = async (c: number) => mapOf(await explainer.explain(img.tensor, { method, target: [[c]], params: paramsOf(method, p), reductions: [reductionOf(method)] }), method, 0);
        for (const pair of ['random', 'maxmin', 'top2'] as const) {
          const [a, b] = [await mapFor(r.classes[pair][0]), await mapFor(r.classes[pair][1])];
          const got = r.methods[method]![pair];
          // Undefined (null in JSON) when a map is all zeros, e.g. Grad-CAM without positive evidence.
          if (a.data.every((v) => v === 0) || b.data.every((v) => v === 0)) expect(got.l2).toBeNull();
          else expect(got.l2, `${method} ${pair}`).toBeCloseTo(normalizedL2Distance(a, b), 5);
          // An undefined ρ (a constant map) is null in JSON.
          const rho = classSensitivitySpearman(a, b);
          if (Number.isNaN(rho)) expect(got.spearman).toBeNull();
          else expect(got.spearman, `${method} ${pair}`).toBeCloseTo(rho, 5);
        }
      }
    }
    // The min-scoring class has a negative logit here: LRP-family maps use a unit seed, not the logit.
    expect(negativeLogits).toBeGreaterThan(0);
    expect(paramsOf('lrp', p)).toMatchObject({ seed: 'one' });
    expect(paramsOf('gradient', p)).toEqual({});
    await explainer.release();
  });

  it('summarizes the records: mean, spread and standard error per method and pair', () => {
    const s = readSummary(out);
    expect(s.images).toBe(5);
    expect(s.rows.map((r) => r.name)).toEqual([...METHODS]);
    for (const row of s.rows) {
      for (const pair of ['random', 'maxmin', 'top2'] as const) {
        expect(row.pairs[pair].l2).toEqual(summarize(records.map((r) => r.methods[row.name]![pair].l2 ?? NaN)));
        const rho = summarize(records.map((r) => r.methods[row.name]![pair].spearman ?? NaN));
        expect(row.pairs[pair].spearman).toEqual(rho);
      }
    }
    expect(s.rows.find((r) => r.name === 'gradcam')!.label).toBe('Grad-CAM');
    expect(s.maps).toEqual({ gradient: 'maxabs', 'guided-backprop': 'maxabs', lrp: 'positive-sum', clrp2: 'maxabs', gradcam: 'maxabs' });
  });

  it('writes summary.csv, one bar chart per measure and index.html', async () => {
    const lines = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    // 5 methods × 3 pairs × 2 measures × (mean, std, sem, median, skipped).
    expect(lines).toHaveLength(1 + 5 * 3 * 2 * 5);
    const s = readSummary(out);
    expect(lines).toContain(`sensitivity,gradient,method,random,l2_mean,${s.rows[0]!.pairs.random.l2.mean},5`);
    for (const f of ['sensitivity-l2.png', 'sensitivity-spearman.png']) {
      const meta = await sharp(join(out, f)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(400);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('sensitivity-l2.png');
    expect(html).toContain('Class sensitivity');
  });

  it('gives the same records after a resume, and with shards + merge', async () => {
    const resumed = join(dir, 'b');
    expect((await cli(...args(resumed, '--seed', '3', '--limit', '2'))).code).toBe(0);
    expect((await cli(...args(resumed, '--seed', '3'))).code).toBe(0);
    expect(readRecords(join(resumed, 'results.jsonl'))).toEqual(records);

    const sharded = join(dir, 'c');
    expect((await cli(...args(sharded, '--seed', '3', '--shard', '1/2'))).code).toBe(0);
    expect((await cli(...args(sharded, '--seed', '3', '--shard', '0/2', '--batch', '3'))).code).toBe(0);
    expect((await cli('eval', 'merge', sharded, '--quiet')).code).toBe(0);
    expect(readRecords(join(sharded, 'results.jsonl'))).toEqual(records);
    expect(readSummary(sharded)).toEqual(readSummary(out));
  });
});

/**
 * Conv → ReLU → Conv → ReLU → Flatten → Gemm whose rows are 2^c · v (v > 0): every class's logit
 * is a positive multiple of one feature, so every method that is linear in the seed draws the same
 * map for every class, scaled by a power of two (exact in floating point).
 */
function sharedMapModel(classes: number): Uint8Array {
  const b = new TinyGraphBuilder('shared-map', [1, 3, 12, 12], 5);
  const h = b.op('Relu', [b.conv(b.op('Relu', [b.conv(b.input, 3, 4)]), 4, 2)]);
  const flat = b.op('Flatten', [h], { axis: intAttr(1) });
  const features = 2 * 12 * 12;
  const v = Array.from({ length: features }, () => b.rng.uniform(0.1, 1));
  const w = b.floatConst('fc_w', [classes, features], Array.from({ length: classes * features }, (_, i) => 2 ** Math.floor(i / features) * v[i % features]!));
  const bias = b.floatConst('fc_b', [classes], Array.from({ length: classes }, (_, c) => 0.1 * c));
  const logits = b.op('Gemm', [flat, w, bias], { transB: intAttr(1) });
  return encodeModel(b.graphWithOutput(logits, [1, classes]), 'backlight-tests');
}

describe('a model whose classes share one map', () => {
  it('gives l2 = 0 and Spearman = 1 for every pair and every method linear in the seed', async () => {
    const folder = join(dir, 'shared-data');
    mkdirSync(folder);
    const labels: { file: string; label: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const rgb = Buffer.alloc(12 * 12 * 3);
      for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 29 + i * 71 + ((k * k) % 13) * 17) % 256;
      await sharp(rgb, { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(join(folder, `t${i}.png`));
      labels.push({ file: `t${i}.png`, label: i });
    }
    writeFileSync(join(folder, 'labels.json'), JSON.stringify(labels));
    const explainer = await Explainer.load(sharedMapModel(5), { threads: 1 });
    const preprocess = resolvePreprocess('none', {}, explainer.inputShape);
    const methods = ['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop', 'lrp', 'lrp-epsilon', 'gradcam'] as const;
    const { Forward } = await import('../src/eval/forward.js');
    const { sensitivityEvaluation } = await import('../src/eval/sensitivity.js');
    const { loadDataset } = await import('../src/eval/datasets.js');
    const out = join(dir, 'shared-out');
    const config = { methods: [...methods], seed: 0 };
    const forward = new Forward(explainer, [3, 12, 12], 2);
    await runEvaluation({ out, dataset: await loadDataset({ data: folder }), preprocess, evaluation: sensitivityEvaluation(explainer, forward, preprocess, config), config: {}, batch: 2 });
    await forward.release();
    const recs = readRecords(join(out, 'results.jsonl'));
    expect(recs).toHaveLength(3);
    for (const r of recs) {
      for (const m of methods) {
        for (const pair of ['random', 'maxmin', 'top2'] as const) {
          expect(r.methods[m]![pair].l2, `${m} ${pair}`).toBe(0);
          expect(r.methods[m]![pair].spearman, `${m} ${pair}`).toBe(1);
        }
      }
    }
    // And the summary of such records says so.
    const s = summarizeSensitivity(recs, config);
    expect(s.rows.every((row) => row.pairs.random.l2.mean === 0 && row.pairs.maxmin.spearman.mean === 1)).toBe(true);
    await explainer.release();
  });
});

describe('mapDistance', () => {
  it('is the normalized l2 distance, undefined when a map is all zeros', () => {
    const a = { data: Float32Array.from([0, 3, 4, 0]), width: 2, height: 2 };
    const b = { data: Float32Array.from([0, 0, 8, 6]), width: 2, height: 2 };
    const zero = { data: new Float32Array(4), width: 2, height: 2 };
    // (0, .6, .8, 0) vs (0, 0, .8, .6): √(.36 + .36).
    expect(mapDistance(a, b)).toBeCloseTo(Math.sqrt(0.72), 12);
    expect(mapDistance(a, { ...a, data: a.data.map((v) => 2 * v) })).toBe(0);
    expect(normalizedL2Distance(a, zero)).toBe(1);
    expect(mapDistance(a, zero)).toBeNaN();
    expect(mapDistance(zero, zero)).toBeNaN();
  });
});

describe('eval sensitivity / adversarial usage errors', () => {
  it('print one line and exit 2', async () => {
    const out = join(dir, 'bad');
    const sens = (...extra: string[]) => ['eval', 'sensitivity', '--model', model, '--data', data, '--out', out, ...extra];
    const adv = (...extra: string[]) => ['eval', 'adversarial', '--model', model, '--data', data, '--out', out, ...extra];
    const cases: [string[], RegExp][] = [
      [sens('--method', 'gradient,nope'), /unknown method 'nope' for eval/],
      [sens('--seed', '-1'), /--seed '-1' must be an integer ≥ 0/],
      [adv('--epsilon', '2'), /--epsilon '2' must be a step in \(0, 1\]/],
      [adv('--epsilon', '2/0'), /--epsilon '2\/0'/],
      [adv('--epsilon', 'abc'), /--epsilon 'abc'/],
      [adv('--target', 'max'), /--target 'max' must be 'predicted'/],
      [adv('--grid', 'x'), /--grid 'x' must be an integer ≥ 0/],
      [adv('--labels', join(dir, 'two-names.txt')), /--labels '.*two-names.txt' names 2 classes, but the model has 6/],
    ];
    writeFileSync(join(dir, 'two-names.txt'), 'cat\ndog\n');
    for (const [a, re] of cases) {
      const r = await cli(...a);
      expect(r.code, a.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.startsWith('backlight: ')).toBe(true);
    }
  });
});
