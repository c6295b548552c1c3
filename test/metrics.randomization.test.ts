/** Metrics of the randomization experiments (src/metrics/randomization.ts). */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/metrics/random.js';
import { imageRecovery, mapSimilarity } from '../src/metrics/randomization.js';
import { ssim } from '../src/metrics/similarity.js';

const rand = (n: number, seed: number): Float32Array => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r());
};

describe('imageRecovery', () => {
  const x = { data: rand(3 * 16 * 16, 1), dims: [3, 16, 16] };

  it('is 1 for the input itself and for any positive affine copy of it', () => {
    expect(imageRecovery(x, x)).toEqual({ pearson: 1, ssim: 1 });
    const r = imageRecovery({ data: x.data.map((v) => 3 * v - 2), dims: [1, 3, 16, 16] }, x);
    expect(r.pearson).toBeCloseTo(1, 6);
    expect(r.ssim).toBeCloseTo(1, 6);
  });

  it('is −1 (Pearson) for the negated input and about 0 for noise', () => {
    expect(imageRecovery({ data: x.data.map((v) => -v), dims: [3, 16, 16] }, x).pearson).toBeCloseTo(-1, 6);
    expect(Math.abs(imageRecovery({ data: rand(3 * 16 * 16, 9), dims: [3, 16, 16] }, x).pearson)).toBeLessThan(0.1);
  });

  it('averages the SSIM over channels', () => {
    // Channel 0 is the input's, channels 1 and 2 are noise: SSIM = (1 + s1 + s2) / 3.
    const noise = rand(3 * 256, 4);
    const mixed = Float32Array.from(x.data);
    mixed.set(noise.subarray(256), 256);
    const part = (d: Float32Array, c: number) => ({ data: d.subarray(c * 256, (c + 1) * 256), width: 16, height: 16 });
    const expected = (1 + ssim(part(mixed, 1), part(x.data, 1)) + ssim(part(mixed, 2), part(x.data, 2))) / 3;
    expect(imageRecovery({ data: mixed, dims: [3, 16, 16] }, x).ssim).toBeCloseTo(expected, 12);
  });

  it('refuses attributions of another shape', () => {
    expect(() => imageRecovery({ data: rand(16 * 16, 1), dims: [1, 16, 16] }, x)).toThrow(/differ/);
  });
});

describe('mapSimilarity', () => {
  const map = (data: ArrayLike<number>) => ({ data, width: 12, height: 12 });
  const a = rand(144, 2);
  const s = Float32Array.from(a, (v) => v - 0.5);

  it('is 1 on all three for identical maps (and for a monotone rescaling: ranks and min-max)', () => {
    expect(mapSimilarity({ scored: map(a), signed: map(s) }, { scored: map(a), signed: map(s) })).toEqual({ spearmanAbs: 1, spearmanRaw: 1, ssim: 1 });
    const r = mapSimilarity({ scored: map(a), signed: map(s) }, { scored: map(a.map((v) => 5 * v + 1)), signed: map(s.map((v) => 2 * v)) });
    expect(r.spearmanAbs).toBeCloseTo(1, 12);
    expect(r.spearmanRaw).toBeCloseTo(1, 12);
    expect(r.ssim).toBeCloseTo(1, 6);
  });

  it('is −1 (Spearman) for reversed ranks, and scores scored and signed maps separately', () => {
    const r = mapSimilarity({ scored: map(a), signed: map(s) }, { scored: map(a.map((v) => 1 - v)), signed: map(s) });
    expect(r.spearmanAbs).toBeCloseTo(-1, 12);
    expect(r.spearmanRaw).toBe(1);
    expect(r.ssim).toBeLessThan(0);
  });

  it('gives NaN ρ for a constant map', () => {
    const zero = new Float32Array(144);
    expect(mapSimilarity({ scored: map(a), signed: map(s) }, { scored: map(zero), signed: map(zero) }).spearmanAbs).toBeNaN();
  });
});
