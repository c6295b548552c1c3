/** src/render: colormaps, percentile normalization, heatmaps, overlays, resizing and grid layout. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import {
  COLORMAP_NAMES,
  LUT_SIZE,
  clipScale,
  colormap,
  colormapLUT,
  composeGrid,
  fitText,
  heatmapRGBA,
  labelsSvg,
  layoutGrid,
  lutIndex,
  mapAt,
  normalizeMap,
  overlayRGBA,
  percentile,
  resizeMap,
  resizeRGBA,
  solidRGBA,
} from '../src/render/index.js';
import { REPO } from './helpers/paths.js';

/** NumPy's default percentile (linear interpolation), by sorting. */
function refPercentile(values: number[], p: number): number {
  const a = values.filter(Number.isFinite).sort((x, y) => x - y);
  const rank = (p / 100) * (a.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return a[lo]! + (a[hi]! - a[lo]!) * (rank - lo);
}

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('colormaps', () => {
  it('have the documented endpoints', () => {
    expect(colormap('viridis')(0)).toEqual([0x44, 0x01, 0x54]);
    expect(colormap('viridis')(1)).toEqual([0xfd, 0xe7, 0x25]);
    expect(colormap('inferno')(0)).toEqual([0x00, 0x00, 0x04]);
    expect(colormap('inferno')(1)).toEqual([0xfc, 0xff, 0xa4]);
    expect(colormap('gray')(0)).toEqual([0, 0, 0]);
    expect(colormap('gray')(1)).toEqual([255, 255, 255]);
    expect(colormap('gray')(0.5)).toEqual([128, 128, 128]);
    expect(colormap('bwr')(0)).toEqual([0, 0, 255]);
    expect(colormap('bwr')(1)).toEqual([255, 0, 0]);
  });

  it('diverging maps are neutral at the centre, blue below and red above', () => {
    expect(colormap('bwr')(0.5)).toEqual([255, 255, 255]);
    const [r, g, b] = colormap('rdbu')(0.5);
    expect(Math.min(r, g, b)).toBeGreaterThan(230);
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThanOrEqual(5);
    const [r0, , b0] = colormap('rdbu')(0);
    const [r1, , b1] = colormap('rdbu')(1);
    expect(b0).toBeGreaterThan(r0 + 50);
    expect(r1).toBeGreaterThan(b1 + 50);
  });

  it('clamp t, give the centre its own entry and reject unknown names', () => {
    expect(LUT_SIZE % 2).toBe(1);
    expect(lutIndex(0.5)).toBe((LUT_SIZE - 1) / 2);
    expect(colormap('viridis')(-3)).toEqual(colormap('viridis')(0));
    expect(colormap('viridis')(7)).toEqual(colormap('viridis')(1));
    for (const name of COLORMAP_NAMES) expect(colormapLUT(name)).toHaveLength(LUT_SIZE * 3);
    expect(() => colormap('jet')).toThrow(BacklightError);
    expect(() => colormap('jet')).toThrow(/unknown colormap 'jet'/);
  });
});

describe('percentile normalization', () => {
  it('matches NumPy-style percentiles on known and random arrays', () => {
    const a = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(a, 50)).toBeCloseTo(50.5, 10);
    expect(percentile(a, 99.5)).toBeCloseTo(99.505, 4);
    expect(percentile(a, 0)).toBe(1);
    expect(percentile(a, 100)).toBe(100);
    expect(percentile([5], 99.5)).toBe(5);
    expect(percentile([-3, 1, 2], 100, true)).toBe(3);
    const r = rng(7);
    for (const n of [2, 3, 10, 1001, 224 * 224]) {
      // Many repeated values (as in sparse maps) as well as distinct ones.
      const v = Array.from({ length: n }, () => (r() < 0.3 ? 0 : Math.fround(r() * 10 - 5)));
      for (const p of [0, 1, 37.5, 50, 99, 99.5, 100]) expect(percentile(Float32Array.from(v), p)).toBeCloseTo(refPercentile(v, p), 4);
    }
  });

  it('ignores non-finite values and does not modify its input', () => {
    const v = Float32Array.from([3, NaN, 1, Infinity, 2, -Infinity]);
    expect(percentile(v, 50)).toBe(2);
    expect(Number.isNaN(v[1]!)).toBe(true);
    expect(v[0]).toBe(3);
    expect(percentile([NaN], 50)).toBeNaN();
  });

  it('clips signed maps to [-1, 1] by the percentile of |values|', () => {
    // 199 values of ±1 and one outlier of -1000: the 99.5th percentile of |v| (rank 198.005)
    // lies between the last 1 and 1000: 1 + 0.005 · 999 ≈ 6.
    const map = new Float32Array(200).map((_, i) => (i % 2 ? 1 : -1));
    map[17] = -1000;
    const scale = clipScale(map, true);
    expect(scale).toBeCloseTo(5.995, 3);
    expect(scale).toBeCloseTo(refPercentile([...map].map(Math.abs), 99.5), 3);
    const n = normalizeMap(map, { signed: true });
    expect(n.scale).toBe(scale);
    expect(n.data[17]).toBe(-1);
    expect(Math.max(...n.data)).toBeLessThanOrEqual(1);
    expect(n.data[1]).toBeCloseTo(1 / scale, 6);
    expect(n.data[0]).toBeCloseTo(-1 / scale, 6);
  });

  it('clips magnitudes to [0, 1], negatives to 0', () => {
    const n = normalizeMap([0, 1, 2, 4, -3], { signed: false, percentile: 75, scale: undefined });
    // 75th percentile of [-3, 0, 1, 2, 4] is 2.
    expect(n.scale).toBe(2);
    expect([...n.data]).toEqual([0, 0.5, 1, 1, 0]);
    expect([...normalizeMap([1, 2, 3], { signed: false, scale: 4 }).data]).toEqual([0.25, 0.5, 0.75]);
  });

  it('handles all-zero, sparse and NaN maps without NaN', () => {
    const zero = normalizeMap(new Float32Array(224 * 224), { signed: true });
    expect(zero.scale).toBe(0);
    expect(zero.data.every((v) => v === 0)).toBe(true);
    const zeroMag = normalizeMap(new Float32Array(16), { signed: false });
    expect(zeroMag.data.every((v) => v === 0)).toBe(true);
    // 1 pixel of 1000 is non-zero: the 99.5th percentile is 0, so the maximum is used.
    const sparse = new Float32Array(1000);
    sparse[3] = -0.25;
    const s = normalizeMap(sparse, { signed: true });
    expect(s.scale).toBe(0.25);
    expect(s.data[3]).toBe(-1);
    const withNaN = normalizeMap([NaN, 1, -1, Infinity], { signed: true, scale: 1 });
    expect([...withNaN.data]).toEqual([0, 1, -1, 1]);
    const h = heatmapRGBA(new Float32Array(4), 2, 2, { signed: true });
    expect(h.weight.every((w) => w === 0)).toBe(true);
  });

  it('rejects percentiles outside (0, 100]', () => {
    expect(() => normalizeMap([1], { signed: true, percentile: 0 })).toThrow(BacklightError);
    expect(() => normalizeMap([1], { signed: true, percentile: 101 })).toThrow(/percentile/);
  });
});

describe('heatmaps and overlays', () => {
  it('colour signed maps with 0 at the centre and magnitudes from the start', () => {
    const h = heatmapRGBA([-2, 0, 2, 1], 2, 2, { signed: true, colormap: 'bwr', scale: 2 });
    expect([...h.data]).toEqual([0, 0, 255, 255, 255, 255, 255, 255, 255, 0, 0, 255, 255, 128, 128, 255]);
    expect([...h.weight]).toEqual([1, 0, 1, 0.5]);
    expect(h.signed).toBe(true);
    const m = heatmapRGBA([0, 1], 2, 1, { signed: false, colormap: 'gray', scale: 1 });
    expect([...m.data]).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    // A diverging colormap on a magnitude uses its upper half: 0 is white.
    const d = heatmapRGBA([0, 1], 2, 1, { signed: false, colormap: 'bwr', scale: 1 });
    expect([...d.data]).toEqual([255, 255, 255, 255, 255, 0, 0, 255]);
    expect(() => heatmapRGBA([1, 2, 3], 2, 2, { signed: true })).toThrow(/not 2×2/);
  });

  it('blend with alpha, weighted by |t| for heatmaps', () => {
    const image = { data: Uint8Array.from([100, 100, 100, 10, 20, 30]), width: 2, height: 1 };
    const heat = { data: Uint8ClampedArray.from([200, 0, 0, 255, 0, 0, 255, 255]), width: 2, height: 1 };
    // Plain RGBA heatmap: uniform alpha (142.5 → 142: Uint8ClampedArray rounds half to even).
    const u = overlayRGBA(image, heat, 0.5);
    expect([...u.data]).toEqual([150, 50, 50, 255, 5, 10, 142, 255]);
    // A Heatmap: alpha × |t|; t = 0.5 → a = 0.25, t = 0 → the image itself.
    const h = { ...heat, signed: true, scale: 1, weight: Float32Array.from([0.5, 0]) };
    const w = overlayRGBA(image, h, 0.5);
    expect([...w.data]).toEqual([125, 75, 75, 255, 10, 20, 30, 255]);
    expect([...overlayRGBA(image, h, 0.5, { weighting: 'uniform' }).data]).toEqual([...u.data]);
    // The heatmap's alpha channel multiplies in; an RGBA image keeps its alpha; gray images work.
    const half = { data: Uint8ClampedArray.from([200, 0, 0, 51]), width: 1, height: 1 };
    expect([...overlayRGBA({ data: Uint8Array.from([100, 100, 100, 77]), width: 1, height: 1 }, half, 1).data]).toEqual([120, 80, 80, 77]);
    expect([...overlayRGBA({ data: Uint8Array.from([100]), width: 1, height: 1 }, half, 1).data]).toEqual([120, 80, 80, 255]);
    expect(() => overlayRGBA(image, solidRGBA(3, 1, [0, 0, 0]), 0.5)).toThrow(/differ in size/);
    expect(() => overlayRGBA(image, heat, 1.5)).toThrow(BacklightError);
  });

  it('resize maps (nearest and bilinear with half-pixel centres) and images', () => {
    expect([...resizeMap([1, 2, 3, 4], 2, 2, 4, 4, 'nearest')]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect([...resizeMap([0, 1], 2, 1, 4, 1, 'bilinear')]).toEqual([0, 0.25, 0.75, 1]);
    expect([...resizeMap([0, 1, 2, 3], 4, 1, 2, 1, 'bilinear')]).toEqual([0.5, 2.5]);
    expect([...resizeMap(new Float32Array(9).fill(3), 3, 3, 5, 7)].every((v) => Math.abs(v - 3) < 1e-6)).toBe(true);
    const img = resizeRGBA({ data: Uint8Array.from([10, 20, 30, 40, 50, 60]), width: 2, height: 1 }, 4, 2);
    expect(img.width).toBe(4);
    expect([...img.data.subarray(0, 16)]).toEqual([10, 20, 30, 255, 10, 20, 30, 255, 40, 50, 60, 255, 40, 50, 60, 255]);
    expect([...img.data.subarray(16, 32)]).toEqual([...img.data.subarray(0, 16)]);
  });

  it('pick one map out of [N, K, H, W]', () => {
    const maps = { data: Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i), dims: [2, 3, 2, 2] };
    const m = mapAt(maps, 1, 2);
    expect([m.width, m.height]).toEqual([2, 2]);
    expect([...m.data]).toEqual([20, 21, 22, 23]);
    expect(() => mapAt(maps, 2, 0)).toThrow(/outside/);
  });
});

describe('grid layout', () => {
  const rows = ['gradient', 'deconvnet', 'guided-backprop'];

  it('3 methods × 2 targets with 224 tiles has the exact documented size', () => {
    const l = layoutGrid({ rows, columns: ['max', '482'], tile: 224, rowLabelWidth: 130 });
    // width: 8 + 130 + 4 + 3·224 + 2·4 + 8; height: 8 + ceil(14·1.4) + 4 + 3·224 + 2·4 + 8.
    expect([l.width, l.height]).toEqual([830, 720]);
    expect(l.tiles).toHaveLength(1 + 3 * 2);
    expect(l.tiles[0]).toEqual({ kind: 'input', row: 0, column: -1, x: 142, y: 32, width: 224, height: 224 });
    expect(l.tiles[1]).toEqual({ kind: 'map', row: 0, column: 0, x: 370, y: 32, width: 224, height: 224 });
    expect(l.tiles.at(-1)).toEqual({ kind: 'map', row: 2, column: 1, x: 598, y: 488, width: 224, height: 224 });
    const headers = l.labels.filter((x) => x.role === 'column');
    expect(headers.map((h) => [h.text, h.x])).toEqual([['input', 254], ['max', 482], ['482', 710]]);
    const rowLabels = l.labels.filter((x) => x.role === 'row');
    expect(rowLabels.map((r) => [r.text, r.x, r.anchor])).toEqual(rows.map((r) => [r, 138, 'end']));
    // Row labels are centred on their tiles: baseline = top + 112 + 0.35·14.
    expect(rowLabels.map((r) => r.y)).toEqual([149, 377, 605]);
  });

  it('measures row labels, adds a title band and places the input as asked', () => {
    // Widest label 'guided-backprop': ceil(15 · 0.6 · 14) = 126.
    const l = layoutGrid({ rows, columns: ['max', '482'], tile: 224, title: 'chelsea' });
    expect(l.width).toBe(8 + 126 + 4 + 3 * 224 + 2 * 4 + 8);
    expect(l.height).toBe(720 + Math.ceil(18 * 1.4) + 4);
    expect(l.labels[0]).toMatchObject({ role: 'title', text: 'chelsea', anchor: 'middle', fontSize: 18 });
    const each = layoutGrid({ rows, columns: ['a', 'b'], tile: { width: 32, height: 16 }, input: 'each-row', rowLabelWidth: 0, gap: 0, margin: 0 });
    expect(each.tiles.filter((t) => t.kind === 'input').map((t) => [t.row, t.x, t.y])).toEqual([[0, 0, 20], [1, 0, 36], [2, 0, 52]]);
    expect([each.width, each.height]).toEqual([96, 20 + 48]);
    expect(each.labels.some((x) => x.role === 'row')).toBe(false);
    const none = layoutGrid({ rows: ['', ''], columns: ['a'], tile: 10, input: 'none', gap: 2, margin: 1 });
    expect(none.tiles.map((t) => [t.kind, t.x, t.y])).toEqual([['map', 1, 23], ['map', 1, 35]]);
    expect(none.width).toBe(12);
  });

  it('shortens labels that do not fit and escapes them in SVG', () => {
    expect(fitText('short', 100, 10)).toBe('short');
    const t = fitText('a very long class name indeed', 60, 10);
    expect(t.endsWith('…')).toBe(true);
    expect([...t].length * 6).toBeLessThanOrEqual(60);
    const l = layoutGrid({ rows: ['<m&m>'], columns: ['"x"'], tile: 64 });
    const svg = labelsSvg(l);
    expect(svg).toContain('&lt;m&amp;m&gt;');
    expect(svg).toContain('&quot;x&quot;');
    expect(svg).toContain(`width="${l.width}" height="${l.height}"`);
  });

  it('composes tiles into the canvas, resizing and skipping as needed', () => {
    const l = layoutGrid({ rows: ['', ''], columns: ['a'], tile: 4, gap: 1, margin: 1, fontSize: 4, rowLabelWidth: 0 });
    const red = solidRGBA(2, 2, [255, 0, 0]);
    const canvas = composeGrid(l, { input: solidRGBA(4, 4, [0, 0, 255]), cells: [[red], [null]] });
    expect([canvas.width, canvas.height]).toEqual([l.width, l.height]);
    const px = (x: number, y: number): number[] => [...canvas.data.subarray((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 4)];
    const [input, map0, map1] = l.tiles;
    expect(px(input!.x, input!.y)).toEqual([0, 0, 255, 255]);
    expect(px(map0!.x + 3, map0!.y + 3)).toEqual([255, 0, 0, 255]);
    expect(px(map1!.x, map1!.y)).toEqual([255, 255, 255, 255]);
    expect(px(0, 0)).toEqual([255, 255, 255, 255]);
  });
});

describe('src/render', () => {
  it('imports nothing from Node (it must run in a browser)', () => {
    const folder = path.join(REPO, 'src', 'render');
    for (const f of readdirSync(folder).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(path.join(folder, f), 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);
      for (const s of specifiers) {
        const ok = s.startsWith('./') || s === '../errors.js' || s === '../ir/slots.js' || s === 'd3-scale-chromatic' || s === 'fast-png';
        expect(ok, `${f} imports '${s}'`).toBe(true);
      }
      expect(text).not.toMatch(/\b(process|Buffer|require)\b[.(]/);
    }
    // The result slicer it shares with the library imports nothing at all.
    const slots = readFileSync(path.join(REPO, 'src', 'ir', 'slots.ts'), 'utf8');
    expect(slots).not.toMatch(/^\s*(?:import|export)[^'"]*from\s+'/m);
    expect(slots).not.toMatch(/\b(process|Buffer|require)\b[.(]/);
  });
});
