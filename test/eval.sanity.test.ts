/**
 * `backlight eval sanity` on a synthetic dataset and a tiny random ResNet with BatchNormalization:
 * stages, the trained stage scoring exactly 1, a record recomputed by hand, resume after a cut,
 * report files, and one-line usage errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, resnetSmall } from '../src/builder/models.js';
import { learnableLayers, randomizeLayers } from '../src/builder/randomize.js';
import { sanityStages, type SanityRecord, type SanitySummary } from '../src/eval/sanity.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { mapSimilarity } from '../src/metrics/randomization.js';
import { encodeModel } from '../src/onnx/encode.js';
import { cli } from './helpers/cli.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

const SIZE = 16;
const spec = { model: 'resnetSmall', depth: 8, inputSize: SIZE, classes: 3, seed: 4, bias: 'random' } as const;
let dir: string;
let data: string;
let model: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-sanity-'));
  data = join(dir, 'data');
  mkdirSync(data);
  const labels: { file: string; label: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const w = 20 + 3 * i;
    const rgb = Buffer.alloc(w * w * 3);
    for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 31 + i * 97 + ((k * k) % 23) * 11) % 256;
    const file = `x${i}.png`;
    await sharp(rgb, { raw: { width: w, height: w, channels: 3 } }).png().toFile(join(data, file));
    labels.push({ file, label: i % 3 });
  }
  writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
  model = join(dir, 'resnet.onnx');
  writeFileSync(model, buildModel(spec));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const METHODS = 'gradient,guided-backprop';
const args = (out: string, ...extra: string[]) => ['eval', 'sanity', '--model', model, '--data', data, '--out', out, '--method', METHODS, '--threads', '1', '--batch', '3', ...extra];
/** The records of results.jsonl; a line cut by a kill (not JSON) is skipped, as the runner does. */
const readRecords = (out: string): SanityRecord[] =>
  readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.trim().endsWith('}')).map((l) => JSON.parse(l) as SanityRecord);

describe('sanityStages', () => {
  const layers = learnableLayers(resnetSmall(spec));
  const M = layers.length;

  it('orders the trained model, the cascade from the top down, then single layers from the top down', () => {
    const stages = sanityStages(layers, ['cascading', 'single']);
    expect(stages).toHaveLength(1 + 2 * M);
    expect(stages[0]).toMatchObject({ id: 'original', randomized: [] });
    expect(stages[1]).toMatchObject({ id: `cascading/${M - 1}`, layerName: 'fc', randomized: [M - 1] });
    expect(stages[M]).toMatchObject({ id: 'cascading/0', layerName: 'conv1' });
    expect(stages[M]!.randomized).toEqual(layers.map((l) => l.index));
    expect(stages[M + 1]).toMatchObject({ id: `single/${M - 1}`, randomized: [M - 1] });
    expect(stages[2 * M]).toMatchObject({ id: 'single/0', randomized: [0] });
  });

  it('limits the stages to selected layers (the cascade still covers every layer above)', () => {
    const stages = sanityStages(layers, ['cascading'], [2, 0]);
    expect(stages.map((s) => s.id)).toEqual(['original', 'cascading/2', 'cascading/0']);
    expect(stages[1]!.randomized).toEqual(layers.filter((l) => l.index >= 2).map((l) => l.index));
  });
});

describe('eval sanity', () => {
  let out: string;
  let records: SanityRecord[];
  let summary: SanitySummary;
  const M = learnableLayers(resnetSmall(spec)).length;

  beforeAll(async () => {
    out = join(dir, 's');
    const r = await cli(...args(out, '--json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    records = readRecords(out);
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).summary as SanitySummary;
  });

  it('records every (image, stage) pair once', () => {
    expect(records).toHaveLength(4 * (1 + 2 * M));
    expect(new Set(records.map((r) => `${r.stage}|${r.file}`)).size).toBe(records.length);
  });

  it('scores the trained model (after the export round trip) exactly 1', () => {
    for (const r of records.filter((x) => x.stage === 'original')) {
      expect(r.agrees).toBe(true);
      for (const m of ['gradient', 'guided-backprop']) expect(r.methods[m]).toEqual({ spearmanAbs: 1, spearmanRaw: 1, ssim: 1 });
    }
  });

  it('matches a stage recomputed by hand', async () => {
    const graph = resnetSmall(spec);
    const layers = learnableLayers(graph);
    const L = 3;
    const randomized = randomizeLayers(graph, layers, layers.filter((l) => l.index >= L).map((l) => l.index), { seed: 0 });
    const p = resolvePreprocess('none', {}, [1, 3, SIZE, SIZE]);
    const x = (await loadImage(join(data, 'x1.png'), p)).tensor;
    const trained = await Explainer.load(encodeModel(graph));
    const random = await Explainer.load(encodeModel(randomized));
    const rec = records.find((r) => r.stage === `cascading/${L}` && r.file === 'x1.png')!;
    for (const method of ['gradient', 'guided-backprop'] as const) {
      const pair = async (ex: typeof trained) => {
        const e = await ex.explain(x, { method, target: 1, reductions: ['maxabs', 'sum'] });
        return { scored: { data: e.maps.maxabs!.data, width: SIZE, height: SIZE }, signed: { data: e.maps.sum!.data, width: SIZE, height: SIZE } };
      };
      const s = mapSimilarity(await pair(trained), await pair(random));
      expect(rec.methods[method]!.spearmanAbs).toBeCloseTo(s.spearmanAbs, 4);
      expect(rec.methods[method]!.spearmanRaw).toBeCloseTo(s.spearmanRaw, 4);
      expect(rec.methods[method]!.ssim).toBeCloseTo(s.ssim, 4);
    }
    expect(rec.target).toBe(1);
    await trained.release();
    await random.release();
  });

  it('shows that the gradient depends on the weights: full randomization lowers its similarity', () => {
    const full = summary.stages.find((s) => s.id === 'cascading/0')!;
    const orig = summary.stages.find((s) => s.id === 'original')!;
    expect(orig.methods.gradient!.spearmanAbs.mean).toBe(1);
    expect(full.methods.gradient!.spearmanAbs.mean).toBeLessThan(0.9);
    expect(full.images).toBe(4);
  });

  it('writes the summary, CSV, plots, map grids and index.html', () => {
    for (const f of ['run.json', 'runs.jsonl', 'summary.json', 'summary.csv', 'index.html', 'sanity-cascading.png', 'sanity-single.png', 'maps-cascading-0.png', 'maps-single-1.png', 'maps/original.npy', `maps/cascading-${M - 1}.npy`]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('mode,stage,layer,method,metric,mean,sem,n');
    expect(csv).toContain('original,original,,gradient,spearmanAbs,1,0,4');
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const f of ['sanity-cascading.png', 'maps-single-0.png']) expect(html).toContain(`src="${f}"`);
  });

  it('resumes: a rerun does nothing, a cut run redoes only the missing pairs (identically)', async () => {
    const again = await cli(...args(out, '--json'));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).run).toMatchObject({ processed: 0, skipped: records.length });

    const cut = join(dir, 'cut');
    mkdirSync(cut);
    for (const f of ['run.json']) writeFileSync(join(cut, f), readFileSync(join(out, f)));
    const kept = records.slice(0, 30);
    // The last line cut in the middle, as a kill would leave it.
    writeFileSync(join(cut, 'results.jsonl'), `${kept.map((r) => JSON.stringify(r)).join('\n')}\n${JSON.stringify(records[30]).slice(0, 25)}`);
    const r = await cli(...args(cut, '--json'));
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout).run;
    expect(run.processed).toBe(records.length - 30);
    expect(run.badLines).toBe(1);
    const redone = readRecords(cut);
    const key = (x: SanityRecord) => `${x.stage}|${x.file}`;
    const byKey = new Map(records.map((x) => [key(x), x]));
    expect(redone).toHaveLength(records.length);
    for (const x of redone) expect(x).toEqual(byKey.get(key(x)));
  });

  it('refuses another configuration in the same folder', async () => {
    const r = await cli(...args(out, '--seed', '3'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^backlight: .*another configuration \(settings differs\)/);
  });

  it('says that a sanity run has nothing to merge', async () => {
    const r = await cli('eval', 'merge', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^backlight: '.*' holds an 'eval sanity' run, which is not sharded: there is nothing to merge/);
  });

  it('lists the learnable layers', async () => {
    const r = await cli('eval', 'sanity', '--model', model, '--list-layers');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(M);
    expect(lines[0]).toMatch(/^\s*0\s+conv1\s+Conv \+ BatchNormalization bn1/);
  });
});

describe('eval sanity usage errors', () => {
  const bad: [string[], RegExp][] = [
    [['--mode', 'sideways'], /--mode 'sideways' must be cascading, single or both/],
    [['--init', 'zeros'], /--init 'zeros' must be layer-std/],
    [['--target', 'other'], /--target 'other' must be 'label'/],
    [['--layers', 'nope'], /--layers: the model has no learnable layer 'nope'/],
    [['--layers', '1,,2'], /--layers '1,,2' must be a comma-separated list/],
    [['--limit', '0'], /--limit '0' must be an integer ≥ 1/],
    [['--method', 'magic'], /unknown method 'magic'/],
  ];
  for (const [extra, message] of bad) {
    it(extra.join(' '), async () => {
      const r = await cli(...args(join(dir, 'bad'), ...extra));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(dir, 'bad', 'results.jsonl'))).toBe(false);
    });
  }

  it('refuses labels the model does not have, before writing anything', async () => {
    const list = join(dir, 'bad-labels.json');
    writeFileSync(list, JSON.stringify([{ file: 'x0.png', label: 1 }, { file: 'x1.png', label: 7 }]));
    const r = await cli(...args(join(dir, 'bad-labels'), '--annotations', list));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^backlight: annotations '.*bad-labels\.json', entry 1: label 7 is not a class of the model \(3 classes\)/);
    expect(existsSync(join(dir, 'bad-labels', 'run.json'))).toBe(false);
  });

  it('needs --data and --out (but not for --list-layers)', async () => {
    const noData = await cli('eval', 'sanity', '--model', model, '--out', join(dir, 'bad'));
    expect(noData.code).toBe(2);
    expect(noData.stderr).toMatch(/^backlight: eval sanity needs --data/);
    const noModel = await cli('eval', 'sanity', '--model', join(dir, 'missing.onnx'), '--list-layers');
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/^backlight: cannot read model file/);
  });
});

describe.skipIf(!HAS_SHARED)('eval sanity on the shared ResNet-20', () => {
  it('runs two stages on two CIFAR images; the trained stage scores 1', async () => {
    const out = join(dir, 'resnet20');
    const r = await cli('eval', 'sanity', '--model', shared('models/resnet20-cifar10-dynbatch.onnx'), '--data', shared('data/cifar10-test-1000'), '--preset', 'cifar10',
      '--limit', '2', '--method', 'guided-backprop', '--mode', 'cascading', '--layers', 'linear,conv1', '--figures', '0', '--threads', '1', '--out', out, '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const recs = readRecords(out);
    expect(recs.map((x) => x.stage).sort()).toEqual(['cascading/0', 'cascading/0', 'cascading/19', 'cascading/19', 'original', 'original']);
    for (const x of recs.filter((y) => y.stage === 'original')) expect(x.methods['guided-backprop']!.spearmanAbs).toBe(1);
  });
});
