/**
 * The pictures of the public API (src/render/pictures.ts, colorbar.ts): colormaps against
 * matplotlib, Captum/Zennit sign modes, overlays over the original photo through the resize plan,
 * colorbars and PNG bytes (read back by sharp, an independent decoder); the DeconvNet note.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import * as core from '../src/core.js';
import {
  COLORMAP_NAMES,
  LUT_SIZE,
  colorbar,
  colormap,
  colormapLUT,
  composeGrid,
  formatTick,
  heatmap,
  heatmapRGBA,
  labelsSvg,
  layoutGrid,
  overlay,
  overlayRGBA,
  resizeMap,
  toPNG,
  type PixelImage,
} from '../src/render/index.js';
import { inputIndependenceNote } from '../src/methods/display.js';
import { Explainer } from '../src/index.js';
import type { Graph, Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const randomMap = (n: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};

const randomImage = (width: number, height: number, channels: number, seed: number): PixelImage => {
  const r = rng(seed);
  return { data: Uint8Array.from({ length: width * height * channels }, () => Math.floor(r() * 256)), width, height };
};

/** The colour `heatmap` gives colormap position p (the table entry nearest to it). */
const at = (name: (typeof COLORMAP_NAMES)[number], p: number): number[] => {
  const lut = colormapLUT(name);
  const k = Math.round(p * (LUT_SIZE - 1)) * 3;
  return [lut[k]!, lut[k + 1]!, lut[k + 2]!];
};

const pixel = (img: { data: ArrayLike<number> }, i: number): number[] => [img.data[i * 4]!, img.data[i * 4 + 1]!, img.data[i * 4 + 2]!];

function expectUsage(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BacklightError);
    expect((e as BacklightError).kind).toBe('usage');
    expect((e as Error).message).toMatch(message);
    expect((e as Error).message).not.toContain('\n');
    return;
  }
  throw new Error('expected a usage error');
}

describe('colormaps against matplotlib 3.6', () => {
  const ref = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/colormaps.json'), 'utf8')) as { size: number; maps: Record<string, number[][]> };
  // d3's RdBu is a B-spline through the ColorBrewer colours, matplotlib's RdBu_r is linear
  // between them: up to 9 grey levels apart between anchors (measured). seismic: 0.3 · 255 =
  // 76.5 rounds to 77 here and to 76 in NumPy (round half to even).
  const tolerance: Record<string, number> = { rdbu: 9, seismic: 1 };
  for (const name of COLORMAP_NAMES) {
    it(`${name} has matplotlib's colours at t = i/256`, () => {
      expect(ref.size).toBe(LUT_SIZE);
      const lut = colormapLUT(name);
      let worst = 0;
      ref.maps[name]!.forEach((c, i) => c.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - lut[i * 3 + k]!)))));
      expect(worst).toBeLessThanOrEqual(tolerance[name] ?? 0);
    });
  }
});

describe('heatmap sign modes (Captum visualize_image_attr, Zennit imgify)', () => {
  const values = [-4, -2, -1, 0, 1, 2, 3, 8];
  const map = { data: Float32Array.from(values), width: 4, height: 2 };

  it("'all' centres 0 and scales by the clip percentile of |v| (imgify symmetric=True at clip 100)", () => {
    const h = heatmap(map, { sign: 'all', clip: 100, colormap: 'coolwarm' });
    expect([h.low, h.high, h.scale]).toEqual([-8, 8, 8]);
    values.forEach((v, i) => expect(pixel(h, i)).toEqual(at('coolwarm', 0.5 + v / 16)));
    expect(pixel(h, 3)).toEqual(at('coolwarm', 0.5));
    // A sequential colormap for signed values: 0 in its middle.
    const g = heatmap(map, { sign: 'all', clip: 100, colormap: 'gray' });
    expect(pixel(g, 0)).toEqual(at('gray', 0.25));
  });

  it("'all' with symmetric: false spans [min, max] (imgify's default)", () => {
    const h = heatmap(map, { sign: 'all', symmetric: false, clip: 100, colormap: 'viridis' });
    expect([h.low, h.high]).toEqual([-4, 8]);
    values.forEach((v, i) => expect(pixel(h, i)).toEqual(at('viridis', (v + 4) / 12)));
  });

  it("'positive', 'negative' and 'absolute_value' show magnitudes from the colormap's start", () => {
    const pos = heatmap(map, { sign: 'positive', clip: 100, colormap: 'hot' });
    expect([pos.low, pos.high]).toEqual([0, 8]);
    values.forEach((v, i) => expect(pixel(pos, i)).toEqual(at('hot', Math.max(v, 0) / 8)));
    const neg = heatmap(map, { sign: 'negative', clip: 100, colormap: 'hot' });
    expect([neg.low, neg.high]).toEqual([0, -4]);
    values.forEach((v, i) => expect(pixel(neg, i)).toEqual(at('hot', Math.max(-v, 0) / 4)));
    const abs = heatmap(map, { sign: 'absolute_value', clip: 100 });
    expect(abs.colormap).toBe('inferno');
    values.forEach((v, i) => expect(pixel(abs, i)).toEqual(at('inferno', Math.abs(v) / 8)));
    // On a diverging map, negative values take its lower half and positive ones its upper half.
    const negD = heatmap(map, { sign: 'negative', clip: 100, colormap: 'bwr' });
    expect(pixel(negD, 0)).toEqual([0, 0, 255]);
    expect([negD.low, negD.high]).toEqual([-4, 4]);
  });

  it("outliers: 2 is Captum's cumulative-sum threshold, for every sign (visualize_image_attr's heat_map)", () => {
    const ref = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/captum-normalize.json'), 'utf8')) as {
      shape: number[];
      attr_chw: number[];
      signs: Record<string, { threshold: number; position: number[] }>;
    };
    const attribution = { data: Float64Array.from(ref.attr_chw), dims: ref.shape };
    for (const sign of ['all', 'positive', 'negative', 'absolute_value'] as const) {
      const h = heatmap(attribution, { sign, outliers: 2, colormap: 'gray' });
      expect(h.scale, sign).toBeCloseTo(Math.abs(ref.signs[sign]!.threshold), 5);
      let worst = 0;
      ref.signs[sign]!.position.forEach((p, i) => (worst = Math.max(worst, Math.abs(h.data[i * 4]! - at('gray', p)[0]!))));
      expect(worst, sign).toBeLessThanOrEqual(1);
    }
    expectUsage(() => heatmap(map, { outliers: 2, clip: 99 }), /give outliers or clip, not both/);
    expectUsage(() => heatmap(map, { outliers: 100 }), /outliers must be a percentage in \[0, 100\)/);
  });

  it('clips at the percentile (NumPy linear interpolation) and takes a fixed scale', () => {
    const big = randomMap(1000, 3);
    big[17] = 50; // an outlier
    const sorted = Array.from(big, Math.abs).sort((a, b) => a - b);
    const rank = 0.99 * 999;
    const p99 = sorted[Math.floor(rank)]! + (sorted[Math.ceil(rank)]! - sorted[Math.floor(rank)]!) * (rank - Math.floor(rank));
    const h = heatmap({ data: big, width: 40, height: 25 }, { clip: 99 });
    expect(h.scale).toBeCloseTo(p99, 5);
    expect(pixel(h, 17)).toEqual(at('rdbu', 1));
    expect(heatmap({ data: big, width: 40, height: 25 }, { scale: 2 }).high).toBe(2);
  });

  it('sums [C, H, W] attributions over channels and drops leading 1s', () => {
    const a = Float32Array.from([1, 2, -3, 4, 0, 0, 0, 0, 1, 1, 1, 1]);
    const h = heatmap({ data: a, dims: [1, 3, 2, 2] }, { clip: 100 });
    const expected = heatmap({ data: [2, 3, -2, 5], width: 2, height: 2 }, { clip: 100 });
    expect([h.width, h.height]).toEqual([2, 2]);
    expect(Array.from(h.data)).toEqual(Array.from(expected.data));
  });

  it('NaN and infinities become 0 rather than NaN colours', () => {
    const h = heatmap({ data: [NaN, Infinity, -1, 1], width: 2, height: 2 }, { clip: 100 });
    expect(pixel(h, 0)).toEqual(at('rdbu', 0.5));
    expect(pixel(h, 1)).toEqual(at('rdbu', 0.5));
    expect(pixel(h, 3)).toEqual(at('rdbu', 1));
  });

  it('refuses bad options in one line', () => {
    expectUsage(() => heatmap(map, { sign: 'up' as never }), /unknown sign 'up': use one of all, positive, negative, absolute_value/);
    expectUsage(() => heatmap(map, { colormap: 'jet' as never }), /unknown colormap 'jet': use one of rdbu, bwr, seismic/);
    expectUsage(() => heatmap(map, { clip: 0 }), /clip must be a percentile in \(0, 100\]/);
    expectUsage(() => heatmap({ data: [1, 2, 3], width: 2, height: 2 }), /map data has 3 values, expected 2×2 = 4/);
    expectUsage(() => heatmap({ data: new Float32Array(8), dims: [2, 2, 1, 2] }), /expected a map of shape \[H, W\]/);
  });
});

describe('overlay on the original image', () => {
  it('at the map size and without a plan, equals the heatmap blended over the image (overlayRGBA)', () => {
    const m = randomMap(12 * 9, 5);
    const img = randomImage(12, 9, 3, 6);
    const over = overlay(img, { data: m, width: 12, height: 9 }, { alpha: 0.7, colormap: 'rdbu' });
    const ref = overlayRGBA(img, heatmapRGBA(m, 12, 9, { signed: true, colormap: 'rdbu' }), 0.7);
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(ref.data[i]! - over.data[i]!));
    expect(worst).toBeLessThanOrEqual(1); // float rounding of the blend
  });

  it('stretches a map over a photo of another size by bilinear upsampling (PyTorch align_corners=False)', () => {
    const mw = 7;
    const mh = 5;
    const m = randomMap(mw * mh, 9).map((v) => v * 0.5); // within ±1: no clipping at scale 1
    const img: PixelImage = { data: new Uint8Array(31 * 23 * 3), width: 31, height: 23 }; // black
    const over = overlay(img, { data: m, width: mw, height: mh }, { scale: 1, weighting: 'uniform', alpha: 1, colormap: 'gray' });
    expect([over.width, over.height]).toEqual([31, 23]);
    // Reference: the values upsampled by resizeMap (tested against PyTorch's convention), then coloured.
    const up = resizeMap(m, mw, mh, 31, 23, 'bilinear');
    let worst = 0;
    for (let i = 0; i < up.length; i++) worst = Math.max(worst, Math.abs(over.data[i * 4]! - at('gray', 0.5 + 0.5 * up[i]!)[0]!));
    expect(worst).toBeLessThanOrEqual(1); // positions interpolated before the table lookup, values after
  });

  it('upsamples through a resize + crop plan as PyTorch grid_sample does (bilinear, align_corners=False, border)', () => {
    const ref = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/overlay-gridsample.json'), 'utf8')) as {
      cases: Array<{ photo: [number, number]; plan: { width: number; height: number; left: number; top: number }; map: [number, number]; values: number[]; expected: (number | null)[] }>;
    };
    expect(ref.cases).toHaveLength(3);
    for (const c of ref.cases) {
      const [w0, h0] = c.photo;
      const black: PixelImage = { data: new Uint8Array(w0 * h0 * 3), width: w0, height: h0 };
      // Gray colormap, opaque, scale 1 (|values| < 1: nothing clips): red = the colormap at 0.5 + v/2.
      const o = overlay(black, { data: Float32Array.from(c.values), width: c.map[0], height: c.map[1] }, { plan: c.plan, scale: 1, alpha: 1, weighting: 'uniform', colormap: 'gray' });
      let worst = 0;
      c.expected.forEach((v, i) => {
        if (v === null) expect(pixel(o, i), `pixel ${i} is outside the window`).toEqual([0, 0, 0]);
        else worst = Math.max(worst, Math.abs(o.data[i * 4]! - at('gray', 0.5 + 0.5 * v)[0]!));
      });
      expect(worst).toBeLessThanOrEqual(1); // the table entry next to it, at most
    }
  });

  it('puts a centre-cropped map over its window only, leaving the rest of the photo (or dimming it)', () => {
    // A 40×30 photo resized ×2 to 80×60, then the 40×40 window at (20, 10): the photo's pixels
    // x in [10, 30), y in [5, 25) (torchvision's Resize + CenterCrop geometry).
    const photo = randomImage(40, 30, 3, 11);
    const m = randomMap(40 * 40, 12);
    const plan = { width: 80, height: 60, left: 20, top: 10 };
    const over = overlay(photo, { data: m, dims: [40, 40] }, { plan, alpha: 0.8 });
    const dimmed = overlay(photo, { data: m, dims: [40, 40] }, { plan, alpha: 0.8, outside: 0.5 });
    // The same map stretched over the window's part of the photo alone.
    const sub = new Uint8Array(20 * 20 * 3);
    for (let y = 0; y < 20; y++) sub.set(photo.data.subarray(((y + 5) * 40 + 10) * 3, ((y + 5) * 40 + 30) * 3), y * 60);
    const window = overlay({ data: sub, width: 20, height: 20 }, { data: m, width: 40, height: 40 }, { alpha: 0.8 });
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 40; x++) {
        const i = y * 40 + x;
        const rgb = Array.from(photo.data.subarray(i * 3, i * 3 + 3));
        if (x >= 10 && x < 30 && y >= 5 && y < 25) {
          expect(pixel(over, i)).toEqual(pixel(window, (y - 5) * 20 + (x - 10)));
          expect(pixel(dimmed, i)).toEqual(pixel(over, i));
        } else {
          expect(pixel(over, i)).toEqual(rgb);
          expect(pixel(dimmed, i)).toEqual(Array.from(Uint8ClampedArray.from(rgb, (v) => v * 0.5)));
        }
      }
    }
  });

  it('takes the image and plan as loadImage and preprocess give them ({ rgba }, { resized, crop })', () => {
    const photo = randomImage(40, 30, 4, 21);
    const m = { data: randomMap(40 * 40, 22), width: 40, height: 40 };
    const a = overlay(photo, m, { plan: { width: 80, height: 60, left: 20, top: 10 } });
    const b = overlay({ rgba: photo.data, width: 40, height: 30 }, m, { plan: { resized: { width: 80, height: 60 }, crop: { left: 20, top: 10 } } });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('keeps an RGBA photo\'s alpha, takes gray photos, and refuses a plan the map does not fit', () => {
    const rgba = randomImage(4, 4, 4, 2);
    const o = overlay(rgba, { data: randomMap(4, 1), width: 2, height: 2 });
    for (let i = 0; i < 16; i++) expect(o.data[i * 4 + 3]).toBe(rgba.data[i * 4 + 3]);
    const gray = overlay(randomImage(4, 4, 1, 2), { data: randomMap(16, 1), width: 4, height: 4 }, { alpha: 0 });
    expect(pixel(gray, 5)).toEqual([gray.data[20]!, gray.data[20]!, gray.data[20]!]);
    expectUsage(() => overlay(rgba, { data: randomMap(4, 1), width: 2, height: 2 }, { plan: { width: 3, height: 3, left: 2, top: 0 } }), /the map \(2×2\) does not fit the plan's window at \(2, 0\) of a 3×3 resize/);
    expectUsage(() => overlay(rgba, { data: randomMap(4, 1), width: 2, height: 2 }, { alpha: 2 }), /alpha must be in \[0, 1\]/);
  });
});

describe('colorbar', () => {
  it('draws the colormap from min (bottom) to max (top) with ticks at min, 0 and max for a diverging map', () => {
    const h = heatmap({ data: [-0.012, 0, 0.006, 0.012], width: 2, height: 2 }, { clip: 100, colormap: 'seismic' });
    const bar = colorbar({ colormap: h.colormap, min: h.low, max: h.high, height: 101, label: 'relevance' });
    expect(bar.labels.map((l) => l.text)).toEqual(['relevance', '−0.012', '0', '0.012']);
    // The tick marks (black, right of the strip) give the rows of max, 0 and min.
    const x = 4 + 8; // margin + half the strip
    const rows: number[] = [];
    for (let y = 0; y < bar.height; y++) if (pixel(bar, y * bar.width + 4 + 16).join() === '0,0,0') rows.push(y);
    expect(rows.length).toBe(3);
    expect([rows[1]! - rows[0]!, rows[2]! - rows[1]!]).toEqual([50, 50]);
    rows.splice(1, 1, ...Array.from({ length: 99 }, (_, k) => rows[0]! + k + 1));
    expect(pixel(bar, rows[0]! * bar.width + x)).toEqual(colormap('seismic')(1));
    expect(pixel(bar, rows[100]! * bar.width + x)).toEqual(colormap('seismic')(0));
    expect(pixel(bar, rows[50]! * bar.width + x)).toEqual(colormap('seismic')(0.5));
    const ticks = bar.labels.filter((l) => l.role === 'tick');
    expect(ticks[0]!.y).toBeGreaterThan(ticks[1]!.y); // min below 0 below max
    expect(ticks[1]!.y).toBeGreaterThan(ticks[2]!.y);
    expect(labelsSvg(bar)).toContain('>−0.012</text>');
  });

  it('marks min and max only for a sequential map, and refuses bad ranges', () => {
    expect(colorbar({ colormap: 'inferno', min: 0, max: 3.2e-6 }).labels.map((l) => l.text)).toEqual(['0', '3.2e-6']);
    expect([formatTick(-0.5), formatTick(12345), formatTick(0.0001234), formatTick(1 / 3)]).toEqual(['−0.5', '1.2e4', '1.2e-4', '0.333']);
    expectUsage(() => colorbar({ colormap: 'gray', min: 1, max: 1 }), /min and max must be two different finite numbers/);
    expectUsage(() => colorbar({ colormap: 'gray', min: 0, max: 1, ticks: [2] }), /tick 2 is outside \[0, 1\]/);
  });

  it('stands right of each row of a figure grid', () => {
    const spec = { rows: ['a', 'b'], columns: ['x'], tile: 20, input: 'none' as const };
    const plain = layoutGrid(spec);
    const withBars = layoutGrid({ ...spec, colorbars: [{ colormap: 'gray', ticks: [{ at: 0, text: '0' }, { at: 1, text: 'max' }] }, null] });
    expect(withBars.width).toBe(plain.width + 4 + 12 + 6 + Math.ceil(3 * 0.6 * 14));
    expect(withBars.colorbars).toEqual([{ row: 0, colormap: 'gray', from: 0, x: plain.width - 8 + 4, y: plain.tiles[0]!.y, width: 12, height: 20 }]);
    expect(withBars.labels.filter((l) => l.role === 'tick').map((l) => l.text)).toEqual(['0', 'max']);
    const canvas = composeGrid(withBars, { cells: [] });
    const b = withBars.colorbars[0]!;
    expect(pixel(canvas, b.y * canvas.width + b.x)).toEqual([255, 255, 255]); // top = 1 = white
    expect(pixel(canvas, (b.y + 19) * canvas.width + b.x)).toEqual([0, 0, 0]);
    // A strip from the middle of the colormap (magnitudes on a diverging map): white to red.
    const half = layoutGrid({ ...spec, colorbars: [{ colormap: 'bwr', from: 0.5, ticks: [] }] });
    const hc = composeGrid(half, { cells: [] });
    const h = half.colorbars[0]!;
    expect(pixel(hc, (h.y + 19) * hc.width + h.x)).toEqual([255, 255, 255]);
    expect(pixel(hc, h.y * hc.width + h.x)).toEqual([255, 0, 0]);
  });
});

describe('toPNG', () => {
  for (const channels of [1, 3, 4]) {
    it(`writes ${channels}-channel images that sharp reads back pixel for pixel`, async () => {
      const img = randomImage(13, 7, channels, channels);
      const png = toPNG(img);
      expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
      expect((await sharp(png).metadata()).channels).toBe(channels);
      // sharp writes raw gray as sRGB: take its first channel.
      const back = await (channels === 1 ? sharp(png).extractChannel(0) : sharp(png)).raw().toBuffer({ resolveWithObject: true });
      expect([back.info.width, back.info.height, back.info.channels]).toEqual([13, 7, channels]);
      expect(Buffer.compare(back.data, Buffer.from(img.data))).toBe(0);
    });
  }

  it('refuses data that is not 1, 3 or 4 channels', () => {
    expectUsage(() => toPNG({ data: new Uint8Array(10), width: 2, height: 2 }), /toPNG: image data of length 10 is not 1, 3 or 4 channels of 2×2/);
  });
});

it('the core (backlight and backlight/web) exports the pictures API', () => {
  for (const name of ['heatmap', 'overlay', 'colorbar', 'toPNG', 'colormap', 'mapAt', 'labelsSvg', 'COLORMAP_NAMES', 'SIGN_MODES']) {
    expect(core, name).toHaveProperty(name);
  }
});

describe('the DeconvNet note: maps that cannot depend on the image', () => {
  const node = (op: string, inputs: string[]): Node => ({ name: op, op, domain: '', inputs, outputs: [`${op}.out`], attrs: {} });
  const graph = (nodes: Node[]): Pick<Graph, 'nodes' | 'initializers'> => ({
    nodes,
    initializers: new Map([
      ['w', float32([1], [2])],
      ['zero', float32([], [0])],
      ['six', float32([], [6])],
      ['minus1', float32([], [-1])],
    ]),
  });

  it('is given for DeconvNet on linear layers and rectifiers only (Relu, Clip from 0), without max-pooling', () => {
    expect(inputIndependenceNote('deconvnet', graph([node('Conv', ['x', 'w']), node('Relu', ['a']), node('GlobalAveragePool', ['b']), node('Gemm', ['c', 'w'])]))).toMatch(/^deconvnet: the model has no max-pooling, .*the map is the same for every image of a class/);
    expect(inputIndependenceNote('deconvnet', graph([node('Conv', ['x', 'w']), node('Clip', ['a', 'zero', 'six']), node('Mul', ['b', 'w'])]))).not.toBeNull();
    for (const other of [node('MaxPool', ['a']), node('Clip', ['a', 'minus1', 'six']), node('Sigmoid', ['a']), node('Mul', ['a', 'b'])]) {
      expect(inputIndependenceNote('deconvnet', graph([node('Conv', ['x', 'w']), other])), other.op).toBeNull();
    }
    expect(inputIndependenceNote('gradient', graph([node('Conv', ['x', 'w']), node('Relu', ['a'])]))).toBeNull();
  });

  it.skipIf(!HAS_SHARED)('is true on the shared ResNet-20: two random images, one class, the same DeconvNet map', async () => {
    const ex = await Explainer.load(shared('models', 'resnet20-cifar10.onnx'));
    expect(inputIndependenceNote('deconvnet', ex.canonical([1, 3, 32, 32]).graph)).not.toBeNull();
    const run = async (seed: number): Promise<Float32Array> => (await ex.explain({ data: randomMap(3 * 32 * 32, seed), dims: [1, 3, 32, 32] }, { method: 'deconvnet', target: 3 })).attribution.data;
    const [a, b] = [await run(1), await run(2)];
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a.some((v) => v !== 0)).toBe(true);
  });
});
