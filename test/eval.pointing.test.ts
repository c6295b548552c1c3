/**
 * `backlight eval pointing` / `eval merge` end to end on a synthetic dataset (PNGs written here,
 * boxes in the images' own pixels) and a tiny random CNN from the builder: per-image records,
 * resume, shards + merge, summaries against the metrics library applied by hand, CSV, figures,
 * usage errors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import type { CliIO } from '../src/cli/errors.js';
import { run } from '../src/cli/program.js';
import { boxesToInput } from '../src/eval/datasets.js';
import type { PointingRecord, PointingSummary } from '../src/eval/pointing.js';
import { CSV_HEADER } from '../src/eval/report.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { GRADIENT_FAMILY } from '../src/methods/methods.js';
import { boxesAreaFraction, toBoxes, type Box } from '../src/metrics/boxes.js';
import { energyPointingCurve } from '../src/metrics/energyPointing.js';
import { evaluatePointingGame, type PointingSample } from '../src/metrics/pointingGame.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const SIZE = 32;
const IMAGES = 9;
let dir: string;
let data: string;
let model: string;
let annotations: { file: string; label: number; boxes: number[][] }[];

/** Image i: W×H noise with a bright rectangle; sizes vary so boxes are rescaled. */
async function writeImage(i: number): Promise<{ file: string; label: number; boxes: number[][] }> {
  const w = 40 + 8 * (i % 3);
  const h = 36 + 6 * (i % 2);
  const rgb = Buffer.alloc(w * h * 3);
  let s = 12345 + i * 7919;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < rgb.length; k++) rgb[k] = Math.floor(rnd() * 90);
  const bw = 8 + (i % 4) * 6;
  const bh = 8 + (i % 3) * 7;
  const x0 = (i * 5) % (w - bw);
  const y0 = (i * 3) % (h - bh);
  for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = 200 + ((x + y + c) % 50);
  const file = `img-${i}.png`;
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(data, file));
  const boxes = [[x0, y0, x0 + bw - 1, y0 + bh - 1]];
  if (i % 4 === 1) boxes.push([0, 0, 5, 5]);
  return { file, label: i % 4, boxes };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-'));
  data = join(dir, 'data');
  mkdirSync(data);
  annotations = [];
  for (let i = 0; i < IMAGES; i++) annotations.push(await writeImage(i));
  // One entry without boxes: left out of the pointing game.
  const rgb = Buffer.alloc(40 * 40 * 3, 128);
  await sharp(rgb, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(data, 'nobox.png'));
  writeFileSync(join(data, 'annotations.json'), JSON.stringify([...annotations, { file: 'nobox.png', label: 1 }]));
  model = join(dir, 'cnn3.onnx');
  writeFileSync(model, buildModel({ model: 'cnn3', inputSize: SIZE, filters: 8, kernel: 5, stride: 1, pad: 2, classes: 4, seed: 3 }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (out: string, ...extra: string[]) => ['eval', 'pointing', '--model', model, '--data', data, '--out', out, '--threads', '1', '--quiet', ...extra];
const readLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
const readRecords = (file: string): PointingRecord[] => readLines(file).map((l) => JSON.parse(l) as PointingRecord);
const readSummary = (out: string): { summary: Omit<PointingSummary, 'perClass'> & { perClass: string }; config: Record<string, unknown>; runs: unknown[] } => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));

describe('eval pointing', () => {
  let out: string;
  let records: PointingRecord[];

  beforeAll(async () => {
    out = join(dir, 'run-a');
    const r = await cli(base(out, '--batch', '4'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    records = readRecords(join(out, 'results.jsonl'));
  });

  it('writes one record per image with boxes, in model-input pixels', () => {
    expect(records.map((r) => r.index)).toEqual(Array.from({ length: IMAGES }, (_, i) => i));
    const p = resolvePreprocess('none', {}, ['batch', 3, SIZE, SIZE]);
    for (const r of records) {
      const a = annotations[r.index]!;
      expect(r.file).toBe(a.file);
      expect(r.label).toBe(a.label);
      const m = /img-([0-9]+)/.exec(r.file)!;
      const i = Number(m[1]);
      const w = 40 + 8 * (i % 3);
      const h = 36 + 6 * (i % 2);
      const expected = boxesToInput(toBoxes(a.boxes), w, h, p);
      r.boxes.forEach((b, k) => b.forEach((v, j) => expect(v).toBeCloseTo(expected[k]![j]!, 3)));
      expect(r.boxFraction).toBeCloseTo(boxesAreaFraction(expected, SIZE, SIZE), 5);
      expect(r.small).toBe(r.boxFraction < 0.5);
      expect(Object.keys(r.methods)).toEqual([...GRADIENT_FAMILY]);
      for (const m of Object.values(r.methods)) {
        expect(m.energyHit).toHaveLength(20);
        expect(m.energyInside).toHaveLength(20);
        expect(m.hit).toBe(m.distance <= 15);
      }
      expect(r.randomExpected).toBeGreaterThan(0);
      expect(r.randomExpected).toBeLessThanOrEqual(1);
    }
  });

  it('summaries equal the metrics library applied by hand to maps computed again', async () => {
    const explainer = await Explainer.load(model, { threads: 1 });
    const p = resolvePreprocess('none', {}, explainer.inputShape);
    const { summary } = readSummary(out);
    expect(summary.images).toBe(IMAGES);
    for (const method of GRADIENT_FAMILY) {
      const samples: (PointingSample & { region: Box[] })[] = [];
      for (const a of annotations) {
        const img = await loadImage(join(data, a.file), p);
        const boxes = boxesToInput(toBoxes(a.boxes), img.original.width, img.original.height, p);
        const e = await explainer.explain(img.tensor, { method, target: [[a.label]], reductions: ['maxabs'] });
        const map = { data: e.maps.maxabs!.data, width: SIZE, height: SIZE };
        samples.push({ map, classId: a.label, boxes, region: boxes });
      }
      const game = evaluatePointingGame(samples, { tolerance: 15 });
      const row = summary.rows.find((r) => r.name === method)!;
      expect(row.subsets.all.overImages).toBeCloseTo(game.method.overImages, 12);
      expect(row.subsets.all.overClasses).toBeCloseTo(game.method.overClasses, 12);
      expect(summary.perClass).toBe('per-class.csv');
      // per-class.csv: class, images, then one accuracy column per method and baseline.
      const csv = readLines(join(out, 'per-class.csv')).map((l) => l.split(','));
      const col = csv[0]!.indexOf(method);
      expect(csv.slice(1).map((r) => [Number(r[0]), Number(r[1]), Number(r[col])])).toEqual(game.method.perClass.map((c) => [c.classId, c.images, c.accuracy]));
      const center = summary.rows.find((r) => r.name === 'center')!;
      expect(center.subsets.all.overImages).toBeCloseTo(game.center.overImages, 12);
      expect(center.subsets.all.overClasses).toBeCloseTo(game.center.overClasses, 12);
      const expectedRandom = summary.rows.find((r) => r.name === 'random-expected')!;
      expect(expectedRandom.subsets.all.overImages).toBeCloseTo(game.randomExpected.overImages, 5);
      const curve = energyPointingCurve(samples.map((s) => ({ map: s.map, region: s.region })));
      const energy = summary.energy[method]!;
      expect(energy.levels).toEqual(curve.levels);
      energy.subsets.all.accuracy.forEach((v, k) => expect(v).toBeCloseTo(curve.accuracy[k]!, 12));
      energy.subsets.all.meanInsideFraction.forEach((v, k) => expect(v).toBeCloseTo(curve.meanInsideFraction[k]!, 5));
      // Small-object subset: the same game on those images only.
      const small = samples.filter((s) => boxesAreaFraction(s.boxes, SIZE, SIZE) < 0.5);
      const smallGame = evaluatePointingGame(small, { tolerance: 15 });
      expect(row.subsets.small.images).toBe(small.length);
      if (small.length) expect(row.subsets.small.overImages).toBeCloseTo(smallGame.method.overImages, 12);
    }
    await explainer.release();
  });

  it('summaries equal the records counted by hand (random baseline, subsets)', () => {
    const { summary } = readSummary(out);
    const random = summary.rows.find((r) => r.name === 'random')!;
    expect(random.subsets.all.hits).toBe(records.filter((r) => r.random.hit).length);
    const difficult = records.filter((r) => r.small && !r.center.hit);
    expect(summary.subsetImages.difficult).toBe(difficult.length);
    const gbp = summary.rows.find((r) => r.name === 'guided-backprop')!;
    expect(gbp.subsets.difficult.hits).toBe(difficult.filter((r) => r.methods['guided-backprop']!.hit).length);
    expect(summary.top1).toBeCloseTo(records.filter((r) => r.predicted === r.label).length / records.length, 12);
    expect(summary.maps).toEqual({ gradient: 'maxabs', 'gradient-x-input': 'maxabs', deconvnet: 'maxabs', 'guided-backprop': 'maxabs' });
  });

  it('writes summary.csv with one row per method × metric × subset', () => {
    const { summary } = readSummary(out);
    const lines = readLines(join(out, 'summary.csv'));
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    const rows = lines.slice(1).map((l) => l.split(','));
    // 7 rows (4 methods, 3 baselines) × 3 subsets × 2 accuracies + 4 methods × 3 subsets × 20 levels × 2.
    expect(rows).toHaveLength(7 * 3 * 2 + 4 * 3 * 20 * 2);
    const g = rows.find((r) => r[1] === 'gradient' && r[3] === 'all' && r[4] === 'accuracy_images')!;
    expect(Number(g[5])).toBe(summary.rows[0]!.subsets.all.overImages);
    expect(Number(g[6])).toBe(IMAGES);
    const c = rows.find((r) => r[1] === 'center' && r[2] === 'baseline' && r[3] === 'small' && r[4] === 'accuracy_classes')!;
    expect(c).toBeDefined();
    const e = rows.find((r) => r[1] === 'deconvnet' && r[3] === 'all' && r[4] === 'energy_inside_p50')!;
    expect(Number(e[5])).toBe(summary.energy.deconvnet!.subsets.all.meanInsideFraction[9]);
    const perClass = readLines(join(out, 'per-class.csv'));
    expect(perClass[0]).toBe('class,images,gradient,gradient-x-input,deconvnet,guided-backprop,center,random,random-expected');
    expect(perClass).toHaveLength(1 + 4);
  });

  it('draws valid PNG figures and an index.html that shows them', async () => {
    for (const f of ['pointing-accuracy.png', 'energy-accuracy.png', 'energy-inside.png']) {
      const meta = await sharp(join(out, f)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(400);
      expect(meta.height).toBeGreaterThan(200);
      // Not blank: the picture has dark pixels (axes, text) and colours.
      const stats = await sharp(join(out, f)).stats();
      expect(stats.channels[0]!.min).toBeLessThan(60);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const f of ['pointing-accuracy.png', 'energy-accuracy.png', 'energy-inside.png', 'summary.csv', 'results.jsonl']) expect(html).toContain(f);
    expect(html).toContain('Centre point');
    expect(html).toContain('<table>');
  });

  it('resumes: a second run does nothing; a deleted line (or a line cut by a kill) is redone alone', async () => {
    const file = join(out, 'results.jsonl');
    const before = readFileSync(file, 'utf8');
    const again = await cli([...base(out), '--json'].filter((a) => a !== '--quiet'));
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.run.processed).toBe(0);
    expect(report.run.skipped).toBe(IMAGES);
    expect(report.run.rejected).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(before);

    // Delete the line of image 4.
    const lines = readLines(file);
    const deleted = lines.find((l) => JSON.parse(l).index === 4)!;
    writeFileSync(file, lines.filter((l) => l !== deleted).map((l) => `${l}\n`).join(''));
    const redo = JSON.parse((await cli([...base(out), '--json'].filter((a) => a !== '--quiet'))).stdout);
    expect(redo.run.processed).toBe(1);
    const back = readLines(file).find((l) => JSON.parse(l).index === 4)!;
    expect(JSON.parse(back)).toEqual(JSON.parse(deleted));

    // A kill in the middle of an append: the last line is cut short, without a newline.
    const all = readLines(file);
    const last = all[all.length - 1]!;
    writeFileSync(file, all.slice(0, -1).map((l) => `${l}\n`).join('') + last.slice(0, 40));
    const cut = JSON.parse((await cli([...base(out), '--json'].filter((a) => a !== '--quiet'))).stdout);
    expect(cut.run.processed).toBe(1);
    expect(cut.run.badLines).toBe(1);
    // The final merge rewrote results.jsonl: every image once, valid JSON, same records.
    const final = readRecords(file);
    expect(final).toEqual(records);
  });

  it('shards + merge give the same records and summary as one run', async () => {
    const sharded = join(dir, 'run-sharded');
    for (const s of ['0/3', '1/3', '2/3']) {
      const r = await cli(base(sharded, '--shard', s));
      expect(r.code).toBe(0);
      const [i, n] = s.split('/');
      expect(existsSync(join(sharded, `results.shard-${i}-of-${n}.jsonl`))).toBe(true);
      expect(readRecords(join(sharded, `results.shard-${i}-of-${n}.jsonl`)).every((rec) => rec.index % 3 === Number(i))).toBe(true);
    }
    expect(existsSync(join(sharded, 'summary.json'))).toBe(false);
    const m = await cli(['eval', 'merge', sharded]);
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('merged 3 shard files: 9 images');
    expect(readRecords(join(sharded, 'results.jsonl'))).toEqual(records);
    expect(readSummary(sharded).summary).toEqual(readSummary(out).summary);
    expect(readFileSync(join(sharded, 'summary.csv'), 'utf8')).toBe(readFileSync(join(out, 'summary.csv'), 'utf8'));
    // Merging again changes nothing.
    await cli(['eval', 'merge', sharded, '--quiet']);
    expect(readRecords(join(sharded, 'results.jsonl'))).toEqual(records);
  });

  it('a shard run skips what a merge already holds; --limit keeps the first N', async () => {
    const limited = join(dir, 'run-limit');
    const r = JSON.parse((await cli([...base(limited, '--limit', '3'), '--json'].filter((a) => a !== '--quiet'))).stdout);
    expect(r.run.processed).toBe(3);
    expect(r.summary.images).toBe(3);
    expect(readRecords(join(limited, 'results.jsonl')).map((x) => x.index)).toEqual([0, 1, 2]);
    const s = JSON.parse((await cli([...base(limited, '--shard', '0/2'), '--json'].filter((a) => a !== '--quiet'))).stdout);
    // Shard 0/2 of 9 images (with boxes): 0, 2, 4, 6, 8; 0 and 2 are done.
    expect(s.run.processed).toBe(3);
    expect(s.run.skipped).toBe(2);
    expect(s.summary).toBeUndefined();
  });
});

describe('eval pointing with LRP methods', () => {
  it('gives the zB composites the preprocessing pixel box and scores the positive channel sum', async () => {
    const out = join(dir, 'run-lrp');
    const r = await cli([...base(out, '--method', 'lrp,clrp1,lrp-epsilon', '--limit', '3'), '--json'].filter((a) => a !== '--quiet'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    // preset none: x/255, so black = 0 and white = 1 in every channel.
    expect(config.params).toEqual({ lrp: { seed: 'one', box: { low: [0, 0, 0], high: [1, 1, 1] } }, clrp1: { seed: 'one', box: { low: [0, 0, 0], high: [1, 1, 1] } }, 'lrp-epsilon': { seed: 'one' } });
    expect(config.maps).toEqual({ lrp: 'positive-sum', clrp1: 'maxabs', 'lrp-epsilon': 'positive-sum' });
    const recs = readRecords(join(out, 'results.jsonl'));
    expect(recs).toHaveLength(3);
    for (const rec of recs) for (const m of ['lrp', 'clrp1', 'lrp-epsilon']) expect(rec.methods[m]!.energyInside.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe('eval usage errors', () => {
  it('prints one line and exits 2', async () => {
    const out = join(dir, 'bad');
    const cases: [string[], RegExp][] = [
      [['eval', 'pointing', '--model', model, '--out', out], /required option '--data <dir>'/],
      [base(out, '--shard', '3/3'), /--shard '3\/3' must be i\/n/],
      [base(out, '--method', 'gradient,nope'), /unknown method 'nope'/],
      [base(out, '--batch', '0'), /--batch '0' must be an integer ≥ 1/],
      [base(out, '--limit', 'x'), /--limit 'x'/],
      [base(out, '--tolerance', '-1'), /--tolerance '-1'/],
      [base(out, '--levels', '0,50'), /--levels '0,50'/],
      [base(out, '--preset', 'nope'), /unknown preprocessing preset 'nope'/],
      [[...base(out), '--json'], /either --json or --quiet/],
      [['eval', 'merge', join(dir, 'nothing-here')], /holds no evaluation/],
      [['eval', 'ablation', '--model', model, '--data', data, '--out', out, '--target', 'x'], /--target 'x'/],
      [['eval', 'ablation', '--model', model, '--data', data, '--out', out, '--fill', 'a,b'], /--fill 'a,b'/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.startsWith('backlight: ')).toBe(true);
    }
  });

  it('refuses another configuration in the same folder, and a list without boxes', async () => {
    const out = join(dir, 'run-config');
    expect((await cli(base(out, '--limit', '2', '--method', 'gradient'))).code).toBe(0);
    const r = await cli(base(out, '--limit', '2', '--method', 'gradient', '--tolerance', '5'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds results of another configuration \(settings differs\)/);
    const labels = join(dir, 'labels-only.json');
    writeFileSync(labels, JSON.stringify([{ file: 'img-0.png', label: 0 }]));
    const nb = await cli(base(join(dir, 'run-nobox'), '--annotations', labels));
    expect(nb.code).toBe(2);
    expect(nb.stderr).toMatch(/needs ground-truth boxes/);
  });

  it('reports a missing image as a one-line failure', async () => {
    const list = join(dir, 'missing.json');
    writeFileSync(list, JSON.stringify([{ file: 'gone.png', label: 0, boxes: [[0, 0, 3, 3]] }]));
    const r = await cli(base(join(dir, 'run-missing'), '--annotations', list));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^backlight: cannot read image '.*gone.png'/);
  });
});
