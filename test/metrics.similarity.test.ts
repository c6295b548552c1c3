import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/metrics/random.js';
import { gaussianWindow, pearsonMaps, ssim, ssimMap } from '../src/metrics/similarity.js';
import type { MetricMap } from '../src/metrics/types.js';

function randomMap(width: number, height: number, seed: number): MetricMap {
  const r = mulberry32(seed);
  // Smooth-ish structure plus noise.
  const data = Float32Array.from({ length: width * height }, (_, i) => Math.sin((i % width) / 3) * Math.cos(Math.floor(i / width) / 4) + 0.3 * r());
  return { data, width, height };
}
const mapOf = (m: MetricMap, f: (v: number) => number): MetricMap => ({ ...m, data: Float32Array.from(m.data, f) });

describe('Pearson', () => {
  it('1 for identical maps, −1 for the negation, invariant to affine maps', () => {
    const a = randomMap(20, 15, 1);
    const b = randomMap(20, 15, 2);
    expect(pearsonMaps(a, a)).toBeCloseTo(1, 12);
    expect(pearsonMaps(a, mapOf(a, (v) => -v))).toBeCloseTo(-1, 12);
    expect(pearsonMaps(a, mapOf(a, (v) => 3 * v + 7))).toBeCloseTo(1, 6);
    const r = pearsonMaps(a, b);
    expect(pearsonMaps(mapOf(a, (v) => 2 * v - 1), b)).toBeCloseTo(r, 6);
    expect(pearsonMaps({ data: new Float32Array(4), width: 2, height: 2 }, { data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 })).toBeNaN();
    expect(() => pearsonMaps(a, randomMap(15, 20, 1))).toThrow(/sizes differ/);
  });
});

describe('SSIM (Wang et al. 2004)', () => {
  it('the window: 11 taps, σ 1.5, summing to 1, symmetric', () => {
    const g = gaussianWindow();
    expect(g.length).toBe(11);
    expect(g.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    expect(g[0]).toBeCloseTo(g[10]!, 15);
    expect(g[5]! / g[6]!).toBeCloseTo(Math.exp(1 / 4.5), 12);
    expect(() => gaussianWindow(10)).toThrow(/odd/);
  });

  it('1 for identical maps, symmetric, below 1 otherwise, and 1 for a positive affine copy (min-max first)', () => {
    const a = randomMap(32, 24, 3);
    const b = randomMap(32, 24, 4);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, b)).toBeCloseTo(ssim(b, a), 12);
    expect(ssim(a, b)).toBeLessThan(1);
    expect(ssim(a, mapOf(a, (v) => 5 * v + 2))).toBeCloseTo(1, 5);
    expect(ssim(a, mapOf(a, (v) => -v))).toBeLessThan(0);
    // Without normalization the scale matters.
    expect(ssim(a, mapOf(a, (v) => 5 * v + 2), { normalize: 'none' })).toBeLessThan(0.9);
    expect(ssimMap(a, b).width).toBe(22);
    expect(ssimMap(a, b).height).toBe(14);
    expect(() => ssim(randomMap(10, 30, 1), randomMap(10, 30, 2))).toThrow(/at least 11×11/);
  });

  it('by hand: two constant 11×11 maps a, b → (2ab + C1)/(a² + b² + C1)', () => {
    const c = (v: number): MetricMap => ({ data: new Float32Array(121).fill(v), width: 11, height: 11 });
    const a = Math.fround(0.2);
    const b = Math.fround(0.6);
    const c1 = 0.01 ** 2;
    expect(ssim(c(0.2), c(0.6), { normalize: 'none', dataRange: 1 })).toBeCloseTo((2 * a * b + c1) / (a * a + b * b + c1), 10);
    // ≈ 0.2401 / 0.4001
    expect(ssim(c(0.2), c(0.6), { normalize: 'none', dataRange: 1 })).toBeCloseTo(0.600099975, 6);
    // Min-max turns constant maps into zeros: identical, SSIM 1.
    expect(ssim(c(0.2), c(0.6))).toBe(1);
  });

  it('by hand: x = c + d·s, y = c − d·s with an antisymmetric ±1 pattern s → (C2 − 2d²q)/(C2 + 2d²q)', () => {
    // s = +1 left of the centre column, −1 right of it, 0 on it. Under the Gaussian window
    // Σ w·s = 0 and Σ w·s² = 1 − g₅ = q (g₅ the centre weight of the normalized 1-D window).
    let sum = 0;
    for (let k = -5; k <= 5; k++) sum += Math.exp(-(k * k) / (2 * 1.5 * 1.5));
    const q = 1 - 1 / sum;
    const cc = 0.5;
    const d = 0.25;
    const s = (i: number): number => Math.sign(5 - (i % 11));
    const x: MetricMap = { data: Float32Array.from({ length: 121 }, (_, i) => cc + d * s(i)), width: 11, height: 11 };
    const y: MetricMap = { data: Float32Array.from({ length: 121 }, (_, i) => cc - d * s(i)), width: 11, height: 11 };
    const c2 = 0.03 ** 2;
    const expected = (c2 - 2 * d * d * q) / (c2 + 2 * d * d * q);
    expect(ssim(x, y, { normalize: 'none', dataRange: 1 })).toBeCloseTo(expected, 10);
    expect(ssim(x, x, { normalize: 'none', dataRange: 1 })).toBeCloseTo(1, 12);
  });

  it('matches a direct 2-D window computation on random maps', () => {
    const w = 17;
    const h = 13;
    const a = randomMap(w, h, 5);
    const b = randomMap(w, h, 6);
    const norm = (m: MetricMap): number[] => {
      const v = Array.from(m.data);
      const lo = Math.min(...v);
      const hi = Math.max(...v);
      return v.map((t) => (t - lo) / (hi - lo));
    };
    const x = norm(a);
    const y = norm(b);
    const g = gaussianWindow(11, 1.5);
    const c1 = 1e-4;
    const c2 = 9e-4;
    let total = 0;
    let count = 0;
    for (let oy = 0; oy + 11 <= h; oy++) {
      for (let ox = 0; ox + 11 <= w; ox++) {
        let mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (let i = 0; i < 11; i++) {
          for (let j = 0; j < 11; j++) {
            const wt = g[i]! * g[j]!;
            const p = (oy + i) * w + ox + j;
            mx += wt * x[p]!;
            my += wt * y[p]!;
          }
        }
        for (let i = 0; i < 11; i++) {
          for (let j = 0; j < 11; j++) {
            const wt = g[i]! * g[j]!;
            const p = (oy + i) * w + ox + j;
            sxx += wt * (x[p]! - mx) ** 2;
            syy += wt * (y[p]! - my) ** 2;
            sxy += wt * (x[p]! - mx) * (y[p]! - my);
          }
        }
        total += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
        count++;
      }
    }
    expect(count).toBe(7 * 3);
    expect(ssim(a, b)).toBeCloseTo(total / count, 10);
  });
});
