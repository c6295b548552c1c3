/**
 * `backlight eval ablation` on a synthetic dataset and a tiny random CNN: records checked against
 * the metrics library and the model run by hand (patch at the map's maximum, random patch,
 * deletion/insertion), summary drops against the records, CSV and figures, shards + merge.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import type { CliIO } from '../src/cli/errors.js';
import { run } from '../src/cli/program.js';
import { defaultPatchSize, type AblationRecord, type AblationSummary } from '../src/eval/ablation.js';
import { softmaxAt } from '../src/eval/forward.js';
import { imageSeed } from '../src/eval/runner.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { ablateAtMax, ablateAtRandom, perturbationCurve } from '../src/metrics/ablation.js';
import { mulberry32 } from '../src/metrics/random.js';
import { summarize } from '../src/metrics/stats.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const SIZE = 28;
let dir: string;
let data: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-abl-'));
  data = join(dir, 'data');
  mkdirSync(data);
  const labels: { file: string; label: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const w = 30 + 4 * i;
    const rgb = Buffer.alloc(w * w * 3);
    for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 37 + i * 101 + ((k * k) % 17) * 13) % 256;
    const file = `x${i}.png`;
    await sharp(rgb, { raw: { width: w, height: w, channels: 3 } }).png().toFile(join(data, file));
    labels.push({ file, label: (i * 2) % 3 });
  }
  // A CIFAR-style folder: labels.json, no boxes.
  writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
  model = join(dir, 'cnn3.onnx');
  writeFileSync(model, buildModel({ model: 'cnn3', inputSize: SIZE, filters: 6, kernel: 3, stride: 1, pad: 1, maxPool: true, classes: 3, seed: 5, bias: 'random' }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (out: string, ...extra: string[]) => ['eval', 'ablation', '--model', model, '--data', data, '--out', out, '--method', 'gradient,guided-backprop,lrp-epsilon', '--steps', '4', '--threads', '1', '--quiet', ...extra];
const readRecords = (file: string): AblationRecord[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AblationRecord);
const readSummary = (out: string): AblationSummary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).summary;

describe('eval ablation', () => {
  let out: string;
  let records: AblationRecord[];

  beforeAll(async () => {
    out = join(dir, 'a');
    const r = await cli(args(out, '--batch', '2'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    records = readRecords(join(out, 'results.jsonl'));
  });

  it('records the patch at the maximum, the random patch and the curves, as recomputed by hand', async () => {
    expect(records).toHaveLength(5);
    const explainer = await Explainer.load(model, { threads: 1 });
    const p = resolvePreprocess('none', {}, explainer.inputShape);
    const patchSize = defaultPatchSize(SIZE);
    expect(patchSize).toBe(4);
    const logitsOf = async (x: Float32Array, n: number) => (await explainer.predict({ data: x, dims: [n, 3, SIZE, SIZE] })).data;
    for (const r of records) {
      const img = await loadImage(join(data, r.file), p);
      const before = await logitsOf(img.tensor.data, 1);
      expect(r.logit).toBeCloseTo(before[r.target]!, 4);
      expect(r.target).toBe(r.label);
      const random = ablateAtRandom(img.tensor, { patchSize, mean: 0, rng: mulberry32(imageSeed(0, r.index)) });
      expect([r.random.x, r.random.y]).toEqual([random.center.x, random.center.y]);
      expect(r.random.logit).toBeCloseTo((await logitsOf(random.data, 1))[r.target]!, 4);
      for (const method of ['gradient', 'guided-backprop', 'lrp-epsilon'] as const) {
        const lrp = method === 'lrp-epsilon';
        // LRP is seeded with 1, not the logit (paramsOf): a negative logit would negate the map.
        const e = await explainer.explain(img.tensor, { method, target: [[r.target]], reductions: [lrp ? 'sum' : 'maxabs'], params: lrp ? { seed: 'one' } : {} });
        const raw = (lrp ? e.maps.sum! : e.maps.maxabs!).data;
        // LRP relevance: the positive part of the channel sum.
        const map = { data: Float32Array.from(raw, (v) => (lrp ? Math.max(0, v) : v)), width: SIZE, height: SIZE };
        const a = ablateAtMax(img.tensor, map, { patchSize, mean: 0 });
        const m = r.methods[method]!;
        expect([m.x, m.y]).toEqual([a.center.x, a.center.y]);
        const after = await logitsOf(a.data, 1);
        expect(m.logit).toBeCloseTo(after[r.target]!, 4);
        expect(m.prob).toBeCloseTo(softmaxAt(after, 3, 0, r.target), 5);
        const del = await perturbationCurve(img.tensor, map, { mode: 'deletion', steps: 4, baseline: 0 }, async (b) => {
          const l = await logitsOf(b.data, b.count);
          return Array.from({ length: b.count }, (_, k) => softmaxAt(l, 3, k, r.target));
        });
        expect(m.deletion).toHaveLength(5);
        m.deletion!.forEach((v, k) => expect(v).toBeCloseTo(del.scores[k]!, 5));
        expect(m.deletionAuc).toBeCloseTo(del.auc, 5);
        expect(m.insertion![4]).toBeCloseTo(r.prob, 5);
      }
    }
    await explainer.release();
  });

  it('summarizes drops and AUCs from the records (Table 1 layout)', () => {
    const s = readSummary(out);
    expect(s.images).toBe(5);
    expect(s.table1.columns).toEqual(['random', 'gradient', 'guided-backprop', 'lrp-epsilon']);
    const random = summarize(records.map((r) => r.logit - r.random.logit));
    expect(s.rows[0]!.logitDrop).toEqual(random);
    expect(s.table1.logitDrop[0]).toBe(random.mean);
    const gbp = s.rows.find((r) => r.name === 'guided-backprop')!;
    expect(gbp.probDrop).toEqual(summarize(records.map((r) => r.prob - r.methods['guided-backprop']!.prob)));
    expect(gbp.deletionAuc).toEqual(summarize(records.map((r) => r.methods['guided-backprop']!.deletionAuc!)));
    expect(gbp.insertionCurve).toHaveLength(5);
    expect(s.maps).toEqual({ gradient: 'maxabs', 'guided-backprop': 'maxabs', 'lrp-epsilon': 'positive-sum' });
    expect(s.fill).toEqual([0, 0, 0]);
    expect(s.patchSize).toBe(4);
  });

  it('writes summary.csv rows, figures and index.html', async () => {
    const lines = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    // random: 4 metrics; each method: 6.
    expect(lines).toHaveLength(1 + 4 + 3 * 6);
    expect(lines).toContain(`ablation,random,baseline,all,logit_drop_mean,${readSummary(out).rows[0]!.logitDrop.mean},5`);
    for (const f of ['ablation-drop.png', 'deletion-insertion.png']) {
      const meta = await sharp(join(out, f)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(300);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('ablation-drop.png');
    expect(html).toContain('Table 1');
  });

  it('shards + merge equal one run; --fill dataset and --steps 0', async () => {
    const sharded = join(dir, 'b');
    expect((await cli(args(sharded, '--shard', '0/2'))).code).toBe(0);
    expect((await cli(args(sharded, '--shard', '1/2'))).code).toBe(0);
    expect((await cli(['eval', 'merge', sharded, '--quiet'])).code).toBe(0);
    expect(readRecords(join(sharded, 'results.jsonl'))).toEqual(records);
    expect(readSummary(sharded)).toEqual(readSummary(out));

    const plain = join(dir, 'c');
    const r = JSON.parse((await cli([...args(plain, '--steps', '0', '--fill', 'dataset', '--limit', '2'), '--json'].filter((a) => a !== '--quiet'))).stdout);
    expect(r.summary.steps).toBe(0);
    expect(r.summary.rows[1].deletionAuc).toBeUndefined();
    expect(r.summary.fill).toHaveLength(3);
    expect(r.summary.fill.every((v: number) => v > 0.2 && v < 0.8)).toBe(true);
    expect(readRecords(join(plain, 'results.jsonl'))[0]!.methods.gradient!.deletion).toBeUndefined();
  });
});
