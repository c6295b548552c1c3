import { describe, expect, it } from 'vitest';
import { averageRanks, pearson, spearman } from '../src/metrics/spearman.js';

describe('averageRanks', () => {
  it('ranks from 1, ties sharing the mean of their ranks', () => {
    expect([...averageRanks([10, 30, 20])]).toEqual([1, 3, 2]);
    expect([...averageRanks([1, 2, 2, 3])]).toEqual([1, 2.5, 2.5, 4]);
    expect([...averageRanks([0, 0, 0])]).toEqual([2, 2, 2]);
    expect([...averageRanks([5, -1, 5, 5, -1])]).toEqual([4, 1.5, 4, 4, 1.5]);
    expect([...averageRanks(Float32Array.from([0.5, -0, 0]))]).toEqual([3, 1.5, 1.5]);
    expect([...averageRanks([])]).toEqual([]);
  });

  it('refuses NaN', () => {
    expect(() => averageRanks([1, NaN])).toThrow(/NaN/);
  });

  it('equals the definition (1 + #smaller + (#equal − 1) / 2) on values with many ties, float32 or not', () => {
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pool = [-0, 0, 0, 0.25, -1.5, 3, 3, Infinity, -Infinity, 1e-30, -2e-38, 5e-45];
    const f32 = Float32Array.from({ length: 3000 }, () => pool[Math.floor(rnd() * pool.length)]! * (1 + Math.floor(rnd() * 3)));
    // Doubles that float32 cannot hold take the other path.
    const f64 = Array.from(f32, (v, i) => (i % 5 === 0 ? v / 3 : v));
    for (const values of [f32, f64]) {
      const ranks = averageRanks(values);
      for (let i = 0; i < values.length; i += 29) {
        let smaller = 0;
        let equal = 0;
        for (const v of values) {
          if (v < values[i]!) smaller++;
          else if (v === values[i]) equal++;
        }
        expect(ranks[i]).toBe(1 + smaller + (equal - 1) / 2);
      }
    }
  });
});

describe('spearman', () => {
  it('is 1 for any increasing relation and −1 for a decreasing one', () => {
    const x = [0.3, 1, 2.5, 7, 100];
    expect(spearman(x, x.map((v) => Math.exp(v / 10)))).toBeCloseTo(1, 12);
    expect(spearman(x, x.map((v) => -v * v))).toBeCloseTo(-1, 12);
  });

  it('matches the textbook value without ties: 1 − 6 Σd² / (n(n² − 1))', () => {
    const a = [86, 97, 99, 100, 101, 103, 106, 110, 112, 113];
    const b = [2, 20, 28, 27, 50, 29, 7, 17, 6, 12];
    // Ranks of b: 1, 6, 8, 7, 10, 9, 3, 5, 2, 4; Σd² = 194.
    expect(spearman(a, b)).toBeCloseTo(1 - (6 * 194) / (10 * 99), 12);
  });

  it('with ties: the Pearson correlation of the average ranks', () => {
    const a = [1, 2, 2, 3, 4, 4, 4, 5];
    const b = [2, 1, 3, 3, 5, 4, 6, 6];
    const ra = [1, 2.5, 2.5, 4, 6, 6, 6, 8];
    const rb = [2, 1, 3.5, 3.5, 6, 5, 7.5, 7.5];
    expect(spearman(a, b)).toBeCloseTo(pearson(ra, rb), 12);
    // By hand from the ranks above: 0.9007775…
    const mean = 4.5;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let i = 0; i < 8; i++) {
      sab += (ra[i]! - mean) * (rb[i]! - mean);
      saa += (ra[i]! - mean) ** 2;
      sbb += (rb[i]! - mean) ** 2;
    }
    expect(spearman(a, b)).toBeCloseTo(sab / Math.sqrt(saa * sbb), 12);
    expect(spearman(a, b)).toBeCloseTo(0.9007775105, 9);
  });

  it('is symmetric and invariant to monotone transforms of either side', () => {
    const a = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.7));
    const b = Float32Array.from({ length: 50 }, (_, i) => Math.cos(i * 0.3) + 0.2 * Math.sin(i));
    const r = spearman(a, b);
    expect(spearman(b, a)).toBeCloseTo(r, 12);
    expect(spearman(a.map((v) => v * 3 + 1), b.map((v) => Math.exp(v)))).toBeCloseTo(r, 12);
    expect(Math.abs(r)).toBeLessThan(1);
  });

  it('is NaN when a series is constant, and refuses different lengths', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(/lengths differ/);
  });
});
