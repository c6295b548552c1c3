/**
 * `backlight explain` with image files and pictures: preprocessing options, labels, heatmap and
 * overlay PNGs, grids, summary.json, the progress bar and the new usage errors. A tiny RGB model
 * and small synthetic images are generated here; MobileNetV2 on chelsea.png runs when ../shared
 * is present.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gridSpec, gridTile, OUTSIDE_CROP, rowColorbar } from '../src/cli/render.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { encodeNpy } from '../src/io/npy.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { resizeCropPlan } from '../src/io/resize.js';
import { intAttr, type Graph, type Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import type { Explainer as CoreExplainer, TensorLike } from '../src/methods/explainer.js';
import { encodeModel } from '../src/onnx/encode.js';
import { colormap, layoutGrid, overlay, reduceChannels } from '../src/render/index.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';
import { runCli as cli, expectClose, listFiles, readNpy, slot, type CliResult } from './helpers/cli.js';

const H = 6;
const W = 8;
const CLASSES = 7;
const LABELS = ['apple', 'banana', 'cherry', 'date', 'elderberry', 'fig', 'grape'];

/** Conv(3→2, 3×3, pad 1) → Relu → Flatten → Gemm(2·H·W → 7), input [N, 3, H, W]. */
function rgbGraph(): Graph {
  const convW = new Float32Array(2 * 3 * 9).map((_, i) => 0.4 * Math.sin(1.3 * i + 0.2) + (i % 9 === 4 ? (i < 27 ? 0.8 : -0.5) : 0));
  const gemmW = new Float32Array(CLASSES * 2 * H * W).map((_, i) => 0.2 * Math.sin(0.37 * i) + 0.1 * Math.cos(0.11 * i * ((i % 7) + 1)));
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
  return {
    name: 'tiny-rgb',
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, H, W] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', CLASSES] }],
    nodes: [
      node('conv', 'Conv', ['image', 'conv.W', 'conv.B'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { type: 'ints', value: [3, 3] } }),
      node('relu', 'Relu', ['c'], ['r']),
      node('flatten', 'Flatten', ['r'], ['f'], { axis: intAttr(1) }),
      node('fc', 'Gemm', ['f', 'fc.W', 'fc.B'], ['logits'], { transB: intAttr(1) }),
    ],
    initializers: new Map([
      ['conv.W', float32([2, 3, 3, 3], convW)],
      ['conv.B', float32([2], [0.05, -0.05])],
      ['fc.W', float32([CLASSES, 2 * H * W], gemmW)],
      ['fc.B', float32([CLASSES], [0, 0.1, -0.1, 0.05, 0, -0.05, 0.02])],
    ]),
    values: new Map(),
  };
}

/** A model whose input is not an image: Gemm([N, 5] → 3). */
function vectorGraph(): Graph {
  return {
    name: 'vector',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 5] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    nodes: [{ name: 'fc', op: 'Gemm', domain: '', inputs: ['x', 'fc.W', 'fc.B'], outputs: ['y'], attrs: { transB: intAttr(1) } }],
    initializers: new Map([
      ['fc.W', float32([3, 5], Array.from({ length: 15 }, (_, i) => Math.sin(i)))],
      ['fc.B', float32([3], [0, 0, 0])],
    ]),
    values: new Map(),
  };
}

/** An RGB test picture of width × height with some structure (a bright blob on a ramp). */
function picture(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const blob = Math.hypot(x - width * 0.6, y - height * 0.4) < Math.min(width, height) / 3 ? 120 : 0;
      px.set([Math.min(255, 20 * x + blob), Math.min(255, 30 * y), Math.max(0, 220 - 15 * x - blob)], (y * width + x) * 3);
    }
  }
  return px;
}

/** A one-line `backlight: …` message and nothing else (no stack trace). */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.startsWith('backlight: ')).toBe(true);
  expect(stderr).toMatch(pattern);
}

async function pngSize(file: string): Promise<[number, number]> {
  const m = await sharp(file).metadata();
  expect(m.format).toBe('png');
  return [m.width!, m.height!];
}

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

let work: string;
let model: string;
let pngFile: string;
let jpgFile: string;
let labelsTxt: string;
let labelsJson: string;
let explainer: CoreExplainer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'backlight-cli-images-'));
  model = join(work, 'rgb.onnx');
  writeFileSync(model, encodeModel(rgbGraph()));
  pngFile = join(work, 'a.png');
  await sharp(picture(W, H), { raw: { width: W, height: H, channels: 3 } }).png().toFile(pngFile);
  jpgFile = join(work, 'b.jpg');
  await sharp(picture(2 * W, 2 * H), { raw: { width: 2 * W, height: 2 * H, channels: 3 } }).jpeg({ quality: 95 }).toFile(jpgFile);
  labelsTxt = join(work, 'labels.txt');
  writeFileSync(labelsTxt, `${LABELS.join('\n')}\n`);
  labelsJson = join(work, 'labels.json');
  writeFileSync(labelsJson, JSON.stringify(LABELS.map((l) => l.toUpperCase())));
  explainer = await Explainer.load(model);
});

afterAll(() => {
  if (work) {
    expect(listFiles(work).filter((f) => f.includes('.tmp-') || f.includes('.backlight-probe-'))).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  }
});

/** The model input of an image file with the default preprocessing (the model's size, x/255). */
async function preprocessed(file: string): Promise<TensorLike> {
  return (await loadImage(file, resolvePreprocess('none', {}, explainer.inputShape))).tensor;
}

describe('explain --image on a generated RGB model', () => {
  const methods = ['gradient', 'guided-backprop'] as const;
  let out: string;
  let result: CliResult;
  const args = (): string[] => ['explain', '--model', model, '--image', pngFile, jpgFile, '--method', methods.join(','), '--target', 'max,3', '--labels', labelsTxt, '--out', out, '--quiet'];

  beforeAll(async () => {
    out = join(work, 'out-images');
    result = await cli(args());
  });

  it('writes .npy, heatmap and overlay PNGs per method and target, a grid per image and summary.json', async () => {
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    const expected: string[] = ['summary.json'];
    for (const [file, stem] of [[pngFile, 'a'], [jpgFile, 'b']] as const) {
      const ref = await explainer.explain(await preprocessed(file), { method: 'gradient', target: ['max', 3] });
      const classes = [...new Set(ref.targets[0]!)];
      for (const m of methods) for (const c of classes) expected.push(`${stem}/${m}__${c}.npy`, `${stem}/${m}__${c}.png`, `${stem}/${m}__${c}_overlay.png`);
      expected.push(`${stem}/grid.png`, `${stem}/logits.npy`, `${stem}/targets.json`);
    }
    expect(listFiles(out)).toEqual(expected.sort());
  });

  it('writes attributions equal to the API on the same preprocessed tensor', async () => {
    for (const [file, stem] of [[pngFile, 'a'], [jpgFile, 'b']] as const) {
      const input = await preprocessed(file);
      expect(input.dims).toEqual([1, 3, H, W]);
      for (const method of methods) {
        const ref = await explainer.explain(input, { method, target: ['max', 3] });
        ref.targets[0]!.forEach((c, k) => {
          const a = readNpy(join(out, stem, `${method}__${c}.npy`));
          expect(a.dims).toEqual([1, 3, H, W]);
          expectClose(a.data, slot(ref.attribution, k));
        });
        expectClose(readNpy(join(out, stem, 'logits.npy')).data, ref.logits.data);
      }
    }
  });

  it('draws heatmaps at the input resolution, overlays at the photo\'s, and the grid as layoutGrid lays it out', async () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const [stem, photo] of [['a', [W, H]], ['b', [2 * W, 2 * H]]] as const) {
      for (const f of readdirSync(join(out, stem)).filter((x) => x.endsWith('.png') && x !== 'grid.png')) {
        expect(await pngSize(join(out, stem, f)), f).toEqual(f.endsWith('_overlay.png') ? photo : [W, H]);
      }
    }
    // Tiles are the input scaled up by an integer factor to at least 192 pixels.
    expect(gridTile(W, H)).toEqual({ width: 192, height: 144 });
    const bars = methods.map(() => rowColorbar('inferno', false, [1, 1]));
    const layout = layoutGrid(gridSpec([...methods], [['one', 'two'], ['three', 'four']], { width: W, height: H }, 'title', bars));
    expect(await pngSize(join(out, 'a', 'grid.png'))).toEqual([layout.width, layout.height]);
    expect(await pngSize(join(out, 'b', 'grid.png'))).toEqual([layout.width, layout.height]);
    // … and a colorbar per row: gap, strip, 6 pixels, the widest tick text ('−1.2e-10').
    expect(layout.width).toBe(8 + Math.ceil(15 * 0.6 * 14) + 4 + 3 * 192 + 2 * 4 + (4 + 12 + 6 + Math.ceil(8 * 0.6 * 14)) + 8);
    expect(layout.height).toBe(8 + Math.ceil(18 * 1.4) + 4 + 2 * Math.ceil(14 * 1.4) + 4 + 2 * 144 + 4 + 8);
    // The grid's input tile is the input picture, scaled up.
    const grid = await sharp(join(out, 'a', 'grid.png')).raw().toBuffer({ resolveWithObject: true });
    const tile = layout.tiles[0]!;
    const src = picture(W, H);
    for (const [x, y] of [[0, 0], [7, 5], [3, 2]] as const) {
      const gx = tile.x + x * 24 + 12;
      const gy = tile.y + y * 24 + 12;
      const i = (gy * grid.info.width + gx) * grid.info.channels;
      expect([...grid.data.subarray(i, i + 3)]).toEqual([...src.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)]);
    }
    expect(summary.inputs[0].images[0].grid).toBe('grid.png');
  });

  it('summarizes predictions, targets, files, timings, preprocessing, versions and the command line', async () => {
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    const ortPkg = JSON.parse(readFileSync(join(REPO, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'));
    expect(s).toMatchObject({
      command: 'explain',
      argv: args(),
      versions: { backlight: pkg.version, onnxruntimeNode: ortPkg.version, node: process.version },
      model,
      classes: CLASSES,
      labels: labelsTxt,
      methods: [...methods],
      targets: ['max', '3'],
      preprocessing: { preset: 'none', width: W, height: H, crop: null, channels: 'rgb', layout: 'nchw', mean: [0, 0, 0], std: [1, 1, 1] },
      display: { png: true, clipPercentile: 99.5, opacity: 0.6, methods: { gradient: { values: 'max |.| over channels', colormap: 'inferno' } } },
    });
    expect(s.commandLine).toBe(`backlight ${args().join(' ')}`);
    expect(s.inputs.map((i: { input: string; kind: string }) => [i.input, i.kind])).toEqual([[pngFile, 'image'], [jpgFile, 'image']]);
    expect(s.inputs[1].original).toEqual({ width: 2 * W, height: 2 * H, format: 'jpeg' });
    for (const [n, inp] of s.inputs.entries()) {
      const logits = readNpy(join(out, n === 0 ? 'a' : 'b', 'logits.npy')).data;
      const probs = softmax(logits);
      const img = inp.images[0];
      // Top 5, sorted by probability, with names from --labels and the softmax of logits.npy.
      expect(img.predictions).toHaveLength(5);
      const ps = img.predictions.map((p: { probability: number }) => p.probability);
      expect([...ps].sort((a, b) => b - a)).toEqual(ps);
      expect(ps.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-9);
      for (const p of img.predictions) {
        expect(p.name).toBe(LABELS[p.index]);
        expect(p.logit).toBeCloseTo(logits[p.index]!, 5);
        expect(p.probability).toBeCloseTo(probs[p.index]!, 6);
      }
      expect(img.predictions[0].index).toBe(logits.indexOf(Math.max(...logits)));
      // Targets per method: max (the top-1 class) and 3, with their files.
      const top = img.predictions[0].index;
      for (const m of methods) {
        expect(img.methods[m].map((t: { target: string; index: number; name: string }) => [t.target, t.index, t.name])).toEqual([['max', top, LABELS[top]], ['3', 3, 'date']]);
        expect(img.methods[m][1]).toMatchObject({ npy: `${m}__3.npy`, png: `${m}__3.png`, overlay: `${m}__3_overlay.png` });
        expect(img.methods[m][1].probability).toBeCloseTo(probs[3]!, 6);
      }
      expect(inp.perImage).toEqual([[top, 3]]);
      for (const f of inp.files) expect(existsSync(f), f).toBe(true);
      expect(inp.files.length).toBe(new Set(inp.files).size);
      expect(inp.timings.map((t: { method: string }) => t.method)).toEqual([...methods]);
      for (const t of inp.timings) {
        expect(t.compileMs).toBeGreaterThanOrEqual(0);
        expect(t.runMs).toBeGreaterThan(0);
      }
      expect(inp.noPictures).toBeNull();
    }
    expect(s.summary).toBe(join(out, 'summary.json'));
  });

  it('--labels takes a JSON array; --json prints the summary as one line', async () => {
    const o = join(work, 'out-json');
    const r = await cli(['explain', '--model', model, '--image', pngFile, '--labels', labelsJson, '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(o, 'summary.json'), 'utf8')));
    for (const p of printed.inputs[0].images[0].predictions) expect(p.name).toBe(LABELS[p.index]!.toUpperCase());
  });

  it('--signed draws the channel sum with the diverging colormap; --no-png draws nothing', async () => {
    const o = join(work, 'out-signed');
    const r = await cli(['explain', '--model', model, '--image', pngFile, '--target', '3', '--signed', '--clip', '90', '--opacity', '1', '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.display).toMatchObject({ clipPercentile: 90, opacity: 1, methods: { gradient: { values: 'signed channel sum', colormap: 'rdbu' } } });
    const signed = await sharp(join(o, 'a', 'gradient__3.png')).raw().toBuffer();
    const magnitude = await sharp(join(out, 'a', 'gradient__3.png')).raw().toBuffer();
    expect(signed.equals(magnitude)).toBe(false);
    // Diverging map: red where the channel sum is positive, blue where negative.
    const a = readNpy(join(o, 'a', 'gradient__3.npy')).data;
    const n = H * W;
    const sums = Array.from({ length: n }, (_, i) => a[i]! + a[n + i]! + a[2 * n + i]!);
    const big = 0.2 * Math.max(...sums.map(Math.abs));
    let checked = 0;
    sums.forEach((sum, i) => {
      const [red, , blue] = signed.subarray(i * 3, i * 3 + 3);
      if (sum > big) expect(red!, `pixel ${i}`).toBeGreaterThan(blue! + 20);
      if (sum < -big) expect(blue!, `pixel ${i}`).toBeGreaterThan(red! + 20);
      if (Math.abs(sum) > big) checked++;
    });
    expect(checked).toBeGreaterThan(5);
    const none = join(work, 'out-nopng');
    const r2 = await cli(['explain', '--model', model, '--image', pngFile, '--no-png', '--out', none, '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(listFiles(none).filter((f) => f.endsWith('.png'))).toEqual([]);
    expect(JSON.parse(r2.stdout).inputs[0]).toMatchObject({ noPictures: 'turned off by --no-png', images: [{ grid: null }] });
  });

  it('--preset and overrides resize and normalize as asked', async () => {
    const o = join(work, 'out-preset');
    const r = await cli(['explain', '--model', model, '--image', jpgFile, '--preset', 'cifar10', '--size', `${W},${H}`, '--crop', '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = resolvePreprocess('cifar10', { size: [W, H], crop: true }, explainer.inputShape);
    expect(JSON.parse(r.stdout).preprocessing).toMatchObject({ preset: 'cifar10', width: W, height: H, crop: p.crop, mean: p.mean, std: p.std });
    const input = (await loadImage(jpgFile, p)).tensor;
    const ref = await explainer.explain(input, { method: 'gradient', target: 'max' });
    expectClose(readNpy(join(o, 'b', `gradient__${ref.targets[0]![0]}.npy`)).data, slot(ref.attribution, 0));
    const o2 = join(work, 'out-mean');
    const r2 = await cli(['explain', '--model', model, '--image', pngFile, '--mean', '0.5', '--std', '0.25,0.5,1', '--channels', 'bgr', '--layout', 'nchw', '--out', o2, '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout).preprocessing).toMatchObject({ channels: 'bgr', mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] });
  });
});

describe('explain --input-npy pictures', () => {
  it('draws an image-like .npy input as min-max gray, or with tensorToImage when a preset is given', async () => {
    const input = await preprocessed(pngFile);
    const x = join(work, 'x.npy');
    writeFileSync(x, encodeNpy(input.data, [3, H, W]));
    const o = join(work, 'out-npy');
    const r = await cli(['explain', '--model', model, '--input-npy', x, '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.preprocessing).toBeNull();
    const c = s.inputs[0].perImage[0][0];
    expect(listFiles(o)).toEqual(['summary.json', ...[`gradient__${c}.npy`, `gradient__${c}.png`, `gradient__${c}_overlay.png`, 'grid.png', 'logits.npy', 'targets.json'].map((f) => `x/${f}`)].sort());
    expect(await pngSize(join(o, 'x', `gradient__${c}.png`))).toEqual([W, H]);
    expect(readNpy(join(o, 'x', `gradient__${c}.npy`)).dims).toEqual([3, H, W]);
    const ref = await explainer.explain(input, { method: 'gradient', target: 'max' });
    expectClose(readNpy(join(o, 'x', `gradient__${c}.npy`)).data, slot(ref.attribution, 0));

    // With --preset none (x/255), the grid's input tile is the original picture.
    const o2 = join(work, 'out-npy-preset');
    const r2 = await cli(['explain', '--model', model, '--input-npy', x, '--preset', 'none', '--out', o2, '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(JSON.parse(r2.stdout).preprocessing).toMatchObject({ preset: 'none', width: W, height: H });
    const layout = layoutGrid(gridSpec(['gradient'], [['one', 'two']], { width: W, height: H }, 'title', [rowColorbar('inferno', false, [1])]));
    const grid = await sharp(join(o2, 'x', 'grid.png')).raw().toBuffer({ resolveWithObject: true });
    expect([grid.info.width, grid.info.height]).toEqual([layout.width, layout.height]);
    const tile = layout.tiles[0]!;
    const i = ((tile.y + 5 * 24 + 3) * grid.info.width + tile.x + 7 * 24 + 3) * grid.info.channels;
    const src = picture(W, H);
    expect([...grid.data.subarray(i, i + 3)]).toEqual([...src.subarray((5 * W + 7) * 3, (5 * W + 7) * 3 + 3)]);
  });

  it('a batch of N > 1 gets one set of pictures per image, suffixed _<n>', async () => {
    const a = await preprocessed(pngFile);
    const b = await preprocessed(jpgFile);
    const x = join(work, 'pair.npy');
    writeFileSync(x, encodeNpy(Float32Array.from([...a.data, ...b.data]), [2, 3, H, W]));
    const o = join(work, 'out-pair');
    const r = await cli(['explain', '--model', model, '--input-npy', x, '--target', '3', '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(listFiles(join(o, 'pair')).filter((f) => f.endsWith('.png'))).toEqual(['gradient__3_0.png', 'gradient__3_0_overlay.png', 'gradient__3_1.png', 'gradient__3_1_overlay.png', 'grid_0.png', 'grid_1.png']);
    const s = JSON.parse(r.stdout);
    expect(s.inputs[0].images.map((i: { index: number; grid: string }) => [i.index, i.grid])).toEqual([[0, 'grid_0.png'], [1, 'grid_1.png']]);
    expect(s.inputs[0].images[1].methods.gradient[0]).toMatchObject({ target: '3', index: 3, png: 'gradient__3_1.png', overlay: 'gradient__3_1_overlay.png', npy: 'gradient__3.npy' });
  });

  it('an input that is not image-like gets no pictures, and says why', async () => {
    const vec = join(work, 'vector.onnx');
    writeFileSync(vec, encodeModel(vectorGraph()));
    const x = join(work, 'v.npy');
    writeFileSync(x, encodeNpy(Float32Array.from([1, -2, 3, 0.5, 2]), [1, 5]));
    const o = join(work, 'out-vector');
    const r = await cli(['explain', '--model', vec, '--input-npy', x, '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(listFiles(o).filter((f) => f.endsWith('.png'))).toEqual([]);
    const inp = JSON.parse(r.stdout).inputs[0];
    expect(inp.noPictures).toMatch(/not an image batch/);
    expect(inp.images[0].predictions).toHaveLength(3);
  });
});

describe('progress bar', () => {
  function fakeTerminal(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }) as Writable & { isTTY?: boolean; columns?: number };
    stream.isTTY = isTTY;
    stream.columns = 100;
    return { stream, text: () => text };
  }

  it('is drawn on a terminal for runs of several images or methods, and not with --quiet or --json or off a terminal', async () => {
    const base = ['explain', '--model', model, '--image', pngFile, jpgFile, '--method', 'gradient,deconvnet'];
    const tty = fakeTerminal(true);
    const r = await cli([...base, '--out', join(work, 'out-progress')], tty.stream);
    expect(r.code, r.stderr).toBe(0);
    // The tiny model has no max-pooling: DeconvNet's maps do not depend on the image (a note).
    expect(r.stderr).toMatch(/^backlight: note: deconvnet: the model has no max-pooling, .* \(Nie et al\. 2018\)\n$/);
    // 2 images × (2 methods + drawing and writing) = 6 steps.
    // (Updates in between are throttled to 10 per second: only the first and the last are sure.)
    expect(tty.text()).toMatch(/explain .* 0\/6 /);
    expect(tty.text()).toMatch(/explain .* 6\/6 .*b: drawing and writing/);
    for (const flag of ['--quiet', '--json']) {
      const t = fakeTerminal(true);
      expect((await cli([...base, flag, '--out', join(work, 'out-progress')], t.stream)).code).toBe(0);
      expect(t.text(), flag).toBe('');
    }
    const pipe = fakeTerminal(false);
    expect((await cli([...base, '--out', join(work, 'out-progress')], pipe.stream)).code).toBe(0);
    expect(pipe.text()).toBe('');
    const one = fakeTerminal(true);
    expect((await cli(['explain', '--model', model, '--image', pngFile, '--out', join(work, 'out-progress')], one.stream)).code).toBe(0);
    expect(one.text()).toBe('');
  });
});

describe('pictures: overlays on the original photo, --colormap, colorbars, merged targets', () => {
  /** Decoded RGB pixels of a file (sharp, as the CLI decodes). */
  async function rgbOf(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
    const r = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(r.data), width: r.info.width, height: r.info.height };
  }

  it('--crop: the overlay covers the crop window of the photo only (the rest dimmed), drawn as the overlay API draws it', async () => {
    // b.jpg is 16×12; --crop 8 resizes it to 10×8 (torchvision truncates the long side) and takes
    // the 8×6 window at (1, 1): the photo's pixels x in [1.6, 14.4) and y in [1.5, 10.5) by their
    // centres, i.e. x 2…13, y 1…9.
    const o = join(work, 'out-crop');
    const r = await cli(['explain', '--model', model, '--image', jpgFile, '--crop', '8', '--target', '3', '--out', o, '--quiet']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const drawn = await rgbOf(join(o, 'b', 'gradient__3_overlay.png'));
    const photo = await rgbOf(jpgFile);
    expect([drawn.width, drawn.height]).toEqual([16, 12]);
    const a = readNpy(join(o, 'b', 'gradient__3.npy'));
    const map = reduceChannels(a.data, { layout: 'nchw', channels: 3, height: H, width: W }, 'maxabs');
    const api = overlay(photo, { data: map, width: W, height: H }, { plan: resizeCropPlan(16, 12, 8, W, H), sign: 'absolute_value', colormap: 'inferno', alpha: 0.6, grayImage: true, brightness: 0.6, outside: OUTSIDE_CROP });
    let inside = 0;
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 16; x++) {
        const i = y * 16 + x;
        const got = [...drawn.data.subarray(i * 3, i * 3 + 3)];
        expect(got, `pixel ${x},${y}`).toEqual([api.data[i * 4]!, api.data[i * 4 + 1]!, api.data[i * 4 + 2]!]);
        if (x >= 2 && x <= 13 && y >= 1 && y <= 9) inside++;
        else expect(got, `pixel ${x},${y} outside the window`).toEqual([...Uint8ClampedArray.from(photo.data.subarray(i * 3, i * 3 + 3), (v) => v * OUTSIDE_CROP)]);
      }
    }
    expect(inside).toBe(12 * 9);
    // --overlay-on input: over the model's input, at its size.
    const o2 = join(work, 'out-crop-input');
    expect((await cli(['explain', '--model', model, '--image', jpgFile, '--crop', '8', '--target', '3', '--overlay-on', 'input', '--out', o2, '--quiet'])).code).toBe(0);
    expect(await pngSize(join(o2, 'b', 'gradient__3_overlay.png'))).toEqual([W, H]);
  });

  it('--colormap draws every heatmap with it and is recorded; a colorbar ends each grid row', async () => {
    const o = join(work, 'out-viridis');
    const r = await cli(['explain', '--model', model, '--image', pngFile, '--target', '3', '--method', 'gradient,lrp', '--colormap', 'viridis', '--clip', '100', '--out', o, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.display.methods).toMatchObject({ gradient: { colormap: 'viridis' }, lrp: { colormap: 'viridis', values: 'signed channel sum' } });
    // The brightest pixel of the gradient's max |.| map is viridis' end colour.
    const a = readNpy(join(o, 'a', 'gradient__3.npy')).data;
    const map = reduceChannels(a, { layout: 'nchw', channels: 3, height: H, width: W }, 'maxabs');
    const top = map.indexOf(Math.max(...map));
    const heat = await rgbOf(join(o, 'a', 'gradient__3.png'));
    expect([...heat.data.subarray(top * 3, top * 3 + 3)]).toEqual(colormap('viridis')(1));
    // The grid: one colorbar per row, with the map's value range (one target: numbers).
    const grid = await sharp(join(o, 'a', 'grid.png')).raw().toBuffer({ resolveWithObject: true });
    const bars = [rowColorbar('viridis', false, [Math.max(...map)]), rowColorbar('viridis', true, [1])];
    const layout = layoutGrid(gridSpec(['gradient', 'lrp'], [['x', 'y']], { width: W, height: H }, 'title', bars));
    expect([grid.info.width, grid.info.height]).toEqual([layout.width, layout.height]);
    for (const b of layout.colorbars) {
      const px = (y: number): number[] => {
        const i = (y * grid.info.width + b.x + 6) * grid.info.channels;
        return [...grid.data.subarray(i, i + 3)];
      };
      expect(px(b.y)).toEqual(colormap('viridis')(1)); // top row: the colormap's end
      expect(px(b.y + b.height - 1)).toEqual(colormap('viridis')(0));
    }
    expect(rowColorbar('viridis', false, [Math.max(...map)]).ticks.map((t) => t.text)).toEqual(['0', expect.stringMatching(/^[0-9.e-]+$/)]);
    expect(rowColorbar('rdbu', true, [1, 2]).ticks.map((t) => t.text)).toEqual(['−max', '0', '+max']);
    // Magnitudes on a diverging colormap use its upper half, and so does their colorbar.
    expect(rowColorbar('coolwarm', false, [1])).toMatchObject({ from: 0.5 });
    expect(rowColorbar('coolwarm', true, [1]).from).toBeUndefined();
  });

  it('--target max,top3 explains the predicted class once (a note says so); a class met twice gets one grid column', async () => {
    const o = join(work, 'out-merge');
    const r = await cli(['explain', '--model', model, '--image', pngFile, '--target', 'max,top3', '--out', o]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("backlight: note: target 'max' is the first class of 'top3': explained once\n");
    const s = JSON.parse(readFileSync(join(o, 'summary.json'), 'utf8'));
    expect(s.targets).toEqual(['top3']);
    expect(s.notes).toEqual(["target 'max' is the first class of 'top3': explained once"]);
    const top3 = s.inputs[0].perImage[0];
    expect(new Set(top3).size).toBe(3);
    expect(listFiles(join(o, 'a')).filter((f) => f.endsWith('.npy') && f !== 'logits.npy')).toEqual(top3.map((c: number) => `gradient__${c}.npy`).sort());
    const three = layoutGrid(gridSpec(['gradient'], [['a', 'b'], ['c', 'd'], ['e', 'f']], { width: W, height: H }, 'title', [rowColorbar('inferno', false, [1, 1, 1])]));
    expect(await pngSize(join(o, 'a', 'grid.png'))).toEqual([three.width, three.height]);
    // max next to the index of the predicted class: both run, the grid shows the class once.
    const predicted = top3[0];
    const o2 = join(work, 'out-merge-2');
    const r2 = await cli(['explain', '--model', model, '--image', pngFile, '--target', `max,${predicted}`, '--out', o2, '--quiet']);
    expect(r2.code, r2.stderr).toBe(0);
    const one = layoutGrid(gridSpec(['gradient'], [['a', 'b']], { width: W, height: H }, 'title', [rowColorbar('inferno', false, [1])]));
    expect(await pngSize(join(o2, 'a', 'grid.png'))).toEqual([one.width, one.height]);
  });

  it('--colormap and --overlay-on usage errors: one line naming the allowed values, exit 2, nothing written', async () => {
    const never = join(work, 'never-pictures');
    const cases: Array<[string[], RegExp]> = [
      [['--image', pngFile, '--colormap', 'jet'], /^backlight: --colormap 'jet' is not a colormap: use one of rdbu, bwr, seismic, coolwarm, viridis, inferno, magma, plasma, hot, gray\n$/],
      [['--image', pngFile, '--overlay-on', 'photo'], /^backlight: --overlay-on 'photo' must be 'original' \(the photo at its resolution\) or 'input' \(the model's input\)\n$/],
      [['--input-npy', join(work, 'x.npy'), '--overlay-on', 'original'], /^backlight: --overlay-on original needs image files \(--image\): a \.npy input is drawn over itself \(--overlay-on input\)\n$/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(['explain', '--model', model, ...args, '--out', never]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr, pattern);
      expect(existsSync(never)).toBe(false);
    }
  });
});

describe('explain --image errors', () => {
  /** Runs a failing command and checks the exit code, the one-line message and that nothing was written. */
  async function fails(code: number, pattern: RegExp, args: string[], out = join(work, 'never')): Promise<void> {
    const r = await cli(['explain', ...args, '--out', out]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr, pattern);
    expect(existsSync(out)).toBe(false);
  }

  it('usage errors of the new options (exit 2)', async () => {
    const m = ['--model', model];
    writeFileSync(join(work, 'short.txt'), 'a\nb\nc\n');
    await fails(2, /^backlight: unknown preprocessing preset 'imagenette': use one of imagenet, imagenet-tf, cifar10, mnist, none\n$/, [...m, '--image', pngFile, '--preset', 'imagenette']);
    for (const size of ['0', 'abc', '3,4,5', '-2', '8,']) {
      await fails(2, new RegExp(`^backlight: --size '${size}' must be W or W,H in pixels`), [...m, '--image', pngFile, '--size', size]);
    }
    await fails(2, /^backlight: mean has 2 values, but a RGB input has 3 channels: give 3 values \(or 1 for all\)\n$/, [...m, '--image', pngFile, '--mean', '0.5,0.5']);
    await fails(2, /^backlight: --mean has 3 values but --std has 2: give one value per channel for both\n$/, [...m, '--image', pngFile, '--mean', '0.5,0.4,0.3', '--std', '0.2,0.2']);
    await fails(2, /^backlight: --mean 'a,b,c' is not a comma-separated list of numbers/, [...m, '--image', pngFile, '--mean', 'a,b,c']);
    await fails(2, /^backlight: --labels '.*short\.txt' names 3 classes, but the model has 7\n$/, [...m, '--image', pngFile, '--labels', join(work, 'short.txt')]);
    await fails(2, /^backlight: give either --image or --input-npy, not both\n$/, [...m, '--image', pngFile, '--input-npy', join(work, 'x.npy')]);
    await fails(2, /^backlight: no input given: add --image FILE or --input-npy FILE\.npy\n$/, m);
    await fails(2, /^backlight: --layout 'nwhc' must be nchw or nhwc\n$/, [...m, '--image', pngFile, '--layout', 'nwhc']);
    await fails(2, /^backlight: --channels 'cmyk' must be rgb, bgr or gray\n$/, [...m, '--image', pngFile, '--channels', 'cmyk']);
    await fails(2, /^backlight: --crop 'big' must be the shorter side/, [...m, '--image', pngFile, '--crop', 'big']);
    await fails(2, /^backlight: --clip '0' must be a number in \(0, 100\]/, [...m, '--image', pngFile, '--clip', '0']);
    await fails(2, /^backlight: --opacity '1.5' must be a number from 0 to 1\n$/, [...m, '--image', pngFile, '--opacity', '1.5']);
    await fails(2, /^backlight: the model input is \[N, 3, 6, 8\] but the 'imagenet' preprocessing makes \[1, 3, 224, 224\]/, [...m, '--image', pngFile, '--preset', 'imagenet']);
    await fails(2, /^backlight: inputs '.*a\.png' and '.*a\.jpg' would both write to/, [...m, '--image', pngFile, join(work, 'a.jpg')]);
  });

  it('a corrupt or missing image: one line, exit 1, nothing written', async () => {
    const corrupt = join(work, 'corrupt.png');
    writeFileSync(corrupt, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 256)));
    await fails(1, /^backlight: cannot decode image '.*corrupt\.png': /, ['--model', model, '--image', pngFile, corrupt]);
    const truncated = join(work, 'truncated.jpg');
    writeFileSync(truncated, readFileSync(jpgFile).subarray(0, 200));
    await fails(1, /^backlight: cannot decode image '.*truncated\.jpg': /, ['--model', model, '--image', truncated]);
    await fails(1, /^backlight: cannot read image '.*missing\.png': no such file or folder \(ENOENT\)\n$/, ['--model', model, '--image', pngFile, join(work, 'missing.png')]);
    await fails(1, /^backlight: cannot read labels file '.*nolabels\.txt': no such file or folder \(ENOENT\)\n$/, ['--model', model, '--image', pngFile, '--labels', join(work, 'nolabels.txt')]);
    const badJson = join(work, 'bad-labels.json');
    writeFileSync(badJson, '["a", 3]');
    await fails(1, /^backlight: --labels '.*bad-labels\.json': a JSON labels file must hold an array of strings\n$/, ['--model', model, '--image', pngFile, '--labels', badJson]);
  });

  it('a failed write leaves no file of that image', async () => {
    const out = join(work, 'out-blocked');
    // A folder where grid.png of image b should go: b's files fail, a's are complete.
    mkdirSync(join(out, 'b', 'grid.png'), { recursive: true });
    const r = await cli(['explain', '--model', model, '--image', pngFile, jpgFile, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr, /^backlight: cannot write '.*b\/grid\.png': it is a folder \(EISDIR\)\n$|^backlight: cannot write '.*b\/grid\.png': /);
    expect(listFiles(join(out, 'b'))).toEqual([]);
    expect(listFiles(join(out, 'a'))).toContain('grid.png');
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  });

  it('--help lists the image options', async () => {
    const r = await cli(['explain', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--image <files...>', '--preset <name>', '--size <W[,H]>', '--crop [N]', '--mean <a,b,c>', '--std <a,b,c>', '--layout <nchw|nhwc>', '--channels <rgb|bgr|gray>', '--labels <file>', '--signed', '--clip <percentile>', '--opacity <a>', '--colormap <name>', '--overlay-on <original|input>', '--no-png', 'grid.png', 'summary.json']) {
      expect(r.stdout).toContain(s);
    }
  });
});

const CHELSEA = shared('images', 'chelsea.png');
const MOBILENET = shared('models', 'mobilenetv2-imagenet.onnx');
const CLASSES_JSON = shared('data', 'imagenet-val-1300', 'classes.json');

describe.skipIf(!HAS_SHARED || !existsSync(CHELSEA) || !existsSync(MOBILENET) || !existsSync(CLASSES_JSON))('MobileNetV2 on chelsea.png (../shared)', () => {
  it('predicts 285 Egyptian cat and draws the grid', async () => {
    const out = join(work, 'chelsea');
    const r = await cli(['explain', '--model', MOBILENET, '--image', CHELSEA, '--preset', 'imagenet', '--labels', CLASSES_JSON, '--method', 'gradient,guided-backprop', '--target', 'max,281', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    const img = s.inputs[0].images[0];
    expect(img.predictions[0]).toMatchObject({ index: 285, name: 'Egyptian cat' });
    expect(img.predictions[0].probability).toBeGreaterThan(0.5);
    expect(s.inputs[0].perImage).toEqual([[285, 281]]);
    expect(existsSync(join(out, 'chelsea', 'grid.png'))).toBe(true);
    const bars = [rowColorbar('inferno', false, [1, 1]), rowColorbar('inferno', false, [1, 1])];
    const layout = layoutGrid(gridSpec(['gradient', 'guided-backprop'], [['a', 'b'], ['c', 'd']], { width: 224, height: 224 }, 'title', bars));
    expect(await pngSize(join(out, 'chelsea', 'grid.png'))).toEqual([layout.width, layout.height]);
    expect(await pngSize(join(out, 'chelsea', 'gradient__285.png'))).toEqual([224, 224]);
    // Overlays over the photo, at its 451×300.
    for (const f of ['gradient__285_overlay.png', 'guided-backprop__281_overlay.png']) expect(await pngSize(join(out, 'chelsea', f))).toEqual([451, 300]);
  });
});
