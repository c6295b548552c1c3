/**
 * FGSM and `backlight eval adversarial`: the cross-entropy seed against finite differences; the
 * attack's perturbation against ε/std · sign of the gradient computed by the eager Float64
 * reference; the predictions after the attack and the flip count against the reference's forward
 * pass; map changes against maps computed again; summary, CSV, figures; shards + merge.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, buildModel, type ModelSpec } from '../src/builder/index.js';
import { fgsm, fgsmGeometry, type AdversarialRecord, type AdversarialSummary } from '../src/eval/adversarial.js';
import { mapOf, paramsOf, reductionOf } from '../src/eval/maps.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess, type Preprocess } from '../src/io/preprocess.js';
import { classSensitivitySpearman, normalizedL2Distance } from '../src/metrics/classSensitivity.js';
import { crossEntropy, crossEntropySeeds, fgsmStep } from '../src/metrics/fgsm.js';
import { ssim } from '../src/metrics/similarity.js';
import { summarize } from '../src/metrics/stats.js';
import { cli } from './helpers/cli.js';
import { backward, forward } from './reference/eager.js';

describe('FGSM pieces', () => {
  it('crossEntropySeeds is the gradient of the cross-entropy with respect to the logits', () => {
    const logits = Float32Array.from([1.5, -0.3, 2.2, 0.1, -1, 0.7, 0.2, 3]);
    const seeds = crossEntropySeeds(logits, 4, [2, 0]);
    for (let i = 0; i < 2; i++) {
      const y = [2, 0][i]!;
      let sum = 0;
      for (let c = 0; c < 4; c++) {
        const h = 1e-4;
        const plus = Float64Array.from(logits);
        const minus = Float64Array.from(logits);
        plus[i * 4 + c]! += h;
        minus[i * 4 + c]! -= h;
        const fd = (crossEntropy(plus, 4, i, y) - crossEntropy(minus, 4, i, y)) / (2 * h);
        expect(seeds[i * 4 + c]).toBeCloseTo(fd, 6);
        sum += seeds[i * 4 + c]!;
      }
      expect(sum).toBeCloseTo(0, 6);
    }
    expect(() => crossEntropySeeds(logits, 4, [4, 0])).toThrow(/target 4/);
  });

  it('fgsmStep moves each value by its channel step times the gradient sign, and clips', () => {
    const x = Float32Array.from([0, 0.5, 1, 0, 0, 0.5, 1, 0]); // [1, 2, 2, 2]
    const g = Float32Array.from([1, -2, 3, 0, -1, 1, 5, -0.5]);
    const y = fgsmStep(x, g, [1, 2, 2, 2], { step: [0.1, 0.3] });
    expect(Array.from(y).map((v) => +v.toFixed(6))).toEqual([0.1, 0.4, 1.1, 0, -0.3, 0.8, 1.3, -0.3]);
    const clipped = fgsmStep(x, g, [1, 2, 2, 2], { step: [0.1, 0.3], bounds: { low: [0, -0.2], high: [1, 1.2] } });
    expect(Array.from(clipped).map((v) => +v.toFixed(6))).toEqual([0.1, 0.4, 1, 0, -0.2, 0.8, 1.2, -0.2]);
  });
});

const SIZE = 20;
const EPS = 3 / 255;
const CLASSES = 5;
const SPEC: ModelSpec = { model: 'cnn3', inputSize: SIZE, filters: 8, kernel: 3, stride: 1, pad: 1, maxPool: true, classes: CLASSES, seed: 21, bias: 'random' };
const PREPROCESS = ['--mean', '0.5,0.4,0.3', '--std', '0.2,0.25,0.3'];
const METHODS = ['gradient', 'guided-backprop', 'lrp', 'gradcam'] as const;
let dir: string;
let data: string;
let model: string;
let preprocess: Preprocess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-adv-'));
  data = join(dir, 'data');
  mkdirSync(data);
  const labels: { file: string; label: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const rgb = Buffer.alloc(SIZE * SIZE * 3);
    // Some saturated pixels, so that clipping at black and white is exercised.
    for (let k = 0; k < rgb.length; k++) rgb[k] = k % 11 === 0 ? 255 : k % 13 === 0 ? 0 : (k * 41 + i * 89 + ((k * k) % 19) * 7) % 256;
    const file = `a${i}.png`;
    await sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(join(data, file));
    labels.push({ file, label: (i * 3) % CLASSES });
  }
  writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
  writeFileSync(join(dir, 'names.txt'), ['ant', 'bee', 'cat', 'dog', 'eel'].join('\n'));
  model = join(dir, 'cnn3.onnx');
  writeFileSync(model, buildModel(SPEC));
  preprocess = resolvePreprocess('none', { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] }, ['batch', 3, SIZE, SIZE]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPSILON = '3/255';
const args = (out: string, ...extra: string[]) => ['eval', 'adversarial', '--model', model, '--data', data, '--out', out, '--method', METHODS.join(','), ...PREPROCESS, '--epsilon', EPSILON, '--threads', '1', '--quiet', ...extra];
const readRecords = (file: string): AdversarialRecord[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AdversarialRecord);
const readSummary = (out: string): AdversarialSummary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).summary;

/** The reference attack: x + ε/std_c · sign(∇ₓ CE) from the eager Float64 forward and backward passes, clipped. */
function referenceAttack(x: Float32Array, y: number | null): { adversarial: Float64Array; gradient: Float64Array; predicted: number } {
  const graph = buildGraph(SPEC);
  graph.inputs[0]!.shape = [1, 3, SIZE, SIZE];
  const fwd = forward(graph, x);
  const logits = fwd.get(graph.outputs[0]!.name)!.data;
  const predicted = logits.indexOf(Math.max(...logits));
  const target = y ?? predicted;
  const max = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  const seed = Float64Array.from(exp, (e, c) => e / sum - (c === target ? 1 : 0));
  const gradient = backward(graph, fwd, seed, 'gradient');
  const plane = SIZE * SIZE;
  const adversarial = Float64Array.from(x, (v, i) => {
    const c = Math.floor(i / plane);
    const low = (0 - preprocess.mean[c]!) / preprocess.std[c]!;
    const high = (1 - preprocess.mean[c]!) / preprocess.std[c]!;
    return Math.min(high, Math.max(low, v + (EPS / preprocess.std[c]!) * Math.sign(gradient[i]!)));
  });
  return { adversarial, gradient, predicted };
}

function argmaxOf(x: ArrayLike<number>): number {
  const graph = buildGraph(SPEC);
  graph.inputs[0]!.shape = [1, 3, SIZE, SIZE];
  const logits = forward(graph, x).get(graph.outputs[0]!.name)!.data;
  return logits.indexOf(Math.max(...logits));
}

describe('fgsm with the compiled gradient', () => {
  it('perturbs by ε/std_c · sign of the gradient that the eager reference computes', async () => {
    const explainer = await Explainer.load(model, { threads: 1 });
    for (const file of ['a0.png', 'a3.png']) {
      const img = await loadImage(join(data, file), preprocess);
      const ref = referenceAttack(img.tensor.data, null);
      const logits = (await explainer.predict(img.tensor)).data;
      const { adversarial, gradient } = await fgsm(explainer, img.tensor, logits, CLASSES, [ref.predicted], fgsmGeometry(preprocess, EPS));
      const scale = Math.max(...Array.from(ref.gradient, Math.abs));
      let compared = 0;
      let clipped = 0;
      for (let i = 0; i < ref.gradient.length; i++) {
        expect(gradient[i]).toBeCloseTo(ref.gradient[i]!, 4);
        // Signs of gradients within float32 noise of 0 may differ; every other value must match.
        if (Math.abs(ref.gradient[i]!) < 1e-5 * scale) continue;
        expect(adversarial.data[i]).toBeCloseTo(ref.adversarial[i]!, 5);
        if (Math.abs(adversarial.data[i]! - img.tensor.data[i]!) < 0.9 * (EPS / 0.3)) clipped++;
        compared++;
      }
      expect(compared).toBeGreaterThan(0.9 * ref.gradient.length);
      expect(clipped).toBeGreaterThan(0);
    }
    await explainer.release();
  });
});

describe('eval adversarial', () => {
  let out: string;
  let records: AdversarialRecord[];

  beforeAll(async () => {
    out = join(dir, 'a');
    const r = await cli(...args(out, '--batch', '4', '--grid', '2', '--labels', join(dir, 'names.txt')));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    records = readRecords(join(out, 'results.jsonl'));
  });

  it('records the predictions before and after, and the flips, as the eager reference finds them', async () => {
    expect(records).toHaveLength(6);
    let flips = 0;
    for (const r of records) {
      const img = await loadImage(join(data, r.file), preprocess);
      const ref = referenceAttack(img.tensor.data, null);
      expect(r.before.predicted).toBe(ref.predicted);
      expect(r.target).toBe(ref.predicted);
      expect(r.after.predicted).toBe(argmaxOf(ref.adversarial));
      expect(r.flip).toBe(r.after.predicted !== r.before.predicted);
      expect(r.after.loss).toBeGreaterThan(r.before.loss);
      expect(r.linf).toBeLessThanOrEqual(EPS + 1e-6);
      expect(r.linf).toBeGreaterThan(0.99 * EPS);
      if (r.flip) flips++;
    }
    const s = readSummary(out);
    expect(s.flips).toBe(flips);
    expect(s.flipRate).toBeCloseTo(flips / 6, 12);
    // Some predictions change and some do not (2 of 6 at this step).
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(6);
  });

  it('measures the change of each map as the maps computed again give it', async () => {
    const explainer = await Explainer.load(model, { threads: 1 });
    for (const r of records.slice(0, 3)) {
      const img = await loadImage(join(data, r.file), preprocess);
      const logits = (await explainer.predict(img.tensor)).data;
      const { adversarial } = await fgsm(explainer, img.tensor, logits, CLASSES, [r.target], fgsmGeometry(preprocess, EPS));
      for (const method of METHODS) {
        const map = async (x: { data: Float32Array; dims: number[] }, c: number) => mapOf(await explainer.explain(x, { method, target: [[c]], params: paramsOf(method, preprocess), reductions: [reductionOf(method)] }), method, 0);
        const a = await map(img.tensor, r.before.predicted);
        const b = await map(adversarial, r.after.predicted);
        const m = r.methods[method]!;
        expect(m.l2, method).toBeCloseTo(normalizedL2Distance(a, b), 5);
        expect(a.data.some((v) => v !== 0) && b.data.some((v) => v !== 0)).toBe(true);
        expect(m.spearman, method).toBeCloseTo(classSensitivitySpearman(a, b), 5);
        expect(m.ssim, method).toBeCloseTo(ssim(a, b), 5);
      }
    }
    await explainer.release();
  });

  it('summarizes per method on all images and on the flipped ones; CSV, figures, index.html', async () => {
    const s = readSummary(out);
    const flipped = records.filter((r) => r.flip);
    for (const row of s.rows) {
      expect(row.subsets.all.l2).toEqual(summarize(records.map((r) => r.methods[row.name]!.l2)));
      expect(row.subsets.flipped.ssim).toEqual(summarize(flipped.map((r) => r.methods[row.name]!.ssim)));
    }
    expect(s.epsilonText).toBe(EPSILON);
    expect(s.epsilon).toBeCloseTo(EPS, 12);
    expect(s.figures.map((f) => f.file)).toEqual(['adversarial-0.png', 'adversarial-1.png']);
    for (const f of ['adversarial-0.png', 'adversarial-1.png', 'adversarial-change.png']) {
      const meta = await sharp(join(out, f)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(400);
    }
    expect(existsSync(join(out, 'adversarial-2.png'))).toBe(false);
    const lines = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    // 6 model rows + 4 methods × 2 subsets × 3 measures × 4 statistics.
    expect(lines).toHaveLength(1 + 6 + 4 * 2 * 3 * 4);
    expect(lines).toContain(`adversarial,model,model,all,flip_rate,${s.flipRate},6`);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('adversarial-change.png');
    expect(html).toContain('adversarial-1.png');
    expect(html).toMatch(/prediction changed on <b>\d of 6<\/b>/);
  });

  it('attacks the label with --target label; shards + merge give the same records', async () => {
    const labelled = join(dir, 'b');
    expect((await cli(...args(labelled, '--target', 'label', '--limit', '2', '--grid', '0'))).code).toBe(0);
    const recs = readRecords(join(labelled, 'results.jsonl'));
    for (const r of recs) {
      expect(r.target).toBe(r.label);
      const img = await loadImage(join(data, r.file), preprocess);
      expect(r.after.predicted).toBe(argmaxOf(referenceAttack(img.tensor.data, r.label).adversarial));
    }
    expect(readSummary(labelled).figures).toEqual([]);

    const sharded = join(dir, 'c');
    const extra = ['--grid', '2', '--labels', join(dir, 'names.txt')];
    expect((await cli(...args(sharded, '--shard', '0/2', ...extra))).code).toBe(0);
    expect((await cli(...args(sharded, '--shard', '1/2', '--batch', '2', ...extra))).code).toBe(0);
    expect((await cli('eval', 'merge', sharded, '--quiet')).code).toBe(0);
    expect(readRecords(join(sharded, 'results.jsonl'))).toEqual(records);
    expect(readSummary(sharded)).toEqual(readSummary(out));
    expect(existsSync(join(sharded, 'adversarial-1.png'))).toBe(true);
  });
});
