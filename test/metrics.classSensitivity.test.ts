import { describe, expect, it } from 'vitest';
import { classSensitivitySpearman, normalizedL2Distance, normalizeValues } from '../src/metrics/classSensitivity.js';
import { summarize } from '../src/metrics/stats.js';
import type { MetricMap } from '../src/metrics/types.js';

const m = (...v: number[]): MetricMap => ({ data: Float32Array.from(v), width: v.length, height: 1 });

describe('class sensitivity', () => {
  it('normalizations', () => {
    expect([...normalizeValues([3, 4])]).toEqual([0.6, 0.8]);
    expect([...normalizeValues([0, 1, 2], 'minmax')]).toEqual([0, 0.5, 1]);
    expect([...normalizeValues([0, 0])]).toEqual([0, 0]);
    expect([...normalizeValues([2, 2], 'minmax')]).toEqual([0, 0]);
    expect(() => normalizeValues([1, NaN])).toThrow(/NaN/);
  });

  it('identical maps: distance 0, Spearman 1', () => {
    const a = m(0.1, 0.5, 0.2, 0.9, 0);
    expect(normalizedL2Distance(a, a)).toBe(0);
    expect(normalizedL2Distance(a, a, 'minmax')).toBe(0);
    expect(classSensitivitySpearman(a, a)).toBeCloseTo(1, 12);
  });

  it('distance ignores scale (both normalizations)', () => {
    const a = m(0.1, 0.5, 0.2, 0.9, 0);
    const b = m(1, 5, 2, 9, 0);
    expect(normalizedL2Distance(a, b)).toBeCloseTo(0, 6);
    expect(normalizedL2Distance(a, b, 'minmax')).toBeCloseTo(0, 6);
  });

  it('by hand', () => {
    // Disjoint supports: orthogonal unit vectors, √2 apart.
    expect(normalizedL2Distance(m(3, 0, 0), m(0, 0, 5))).toBeCloseTo(Math.SQRT2, 12);
    // l2: (0.6, 0.8) vs (0.8, 0.6): √(0.04 + 0.04).
    expect(normalizedL2Distance(m(3, 4), m(4, 3))).toBeCloseTo(Math.sqrt(0.08), 7);
    // Min-max: (0, .5, 1) vs (1, .5, 0): √2.
    expect(normalizedL2Distance(m(0, 1, 2), m(2, 1, 0), 'minmax')).toBeCloseTo(Math.SQRT2, 12);
    // A zero map is all zeros after normalization: distance 1 to any unit vector.
    expect(normalizedL2Distance(m(0, 0), m(1, 1))).toBeCloseTo(1, 7);
    expect(() => normalizedL2Distance(m(1, 2), m(1, 2, 3))).toThrow();
  });

  it('Spearman between max- and min-class maps: −1 reversed, NaN for a constant map (skipped in the mean)', () => {
    expect(classSensitivitySpearman(m(1, 2, 3, 4), m(8, 6, 4, 0))).toBeCloseTo(-1, 12);
    const rho = [classSensitivitySpearman(m(1, 2, 3), m(1, 2, 3)), classSensitivitySpearman(m(1, 2, 3), m(0, 0, 0)), classSensitivitySpearman(m(1, 2, 3), m(3, 2, 1))];
    expect(rho[1]).toBeNaN();
    const s = summarize(rho);
    expect(s.n).toBe(2);
    expect(s.skipped).toBe(1);
    expect(s.mean).toBeCloseTo(0, 12);
  });
});

describe('summarize', () => {
  it('mean, sample std, sem, median, range', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.sem).toBeCloseTo(Math.sqrt(32 / 7) / Math.sqrt(8), 12);
    expect(s.median).toBe(4.5);
    expect([s.min, s.max]).toEqual([2, 9]);
    expect(summarize([]).mean).toBeNaN();
    expect(summarize([3]).std).toBeNaN();
  });
});
