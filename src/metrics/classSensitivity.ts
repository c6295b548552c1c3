/**
 * Class sensitivity: how much a method's map changes with the explained class.
 *
 * - Nie, Zhang, Patel 2018, §4.3: for each image, maps for two randomly chosen classes
 *   (`randomPair` in `random.ts`), each **normalized**, then the l2 distance between them, averaged
 *   over images (`summarize`). The paper only says the maps are normalized; we offer
 *   - `'l2'` (default): v / ‖v‖₂, so each map is a unit vector and the distance lies in [0, 2]
 *     ([0, √2] for non-negative maps); it is √(2 − 2·cos θ), a function of the maps' cosine;
 *   - `'minmax'`: (v − min) / (max − min), values in [0, 1]; the distance grows with the number of
 *     pixels (divide by √n for a per-pixel RMS if comparing map sizes).
 *   A map with ‖v‖₂ = 0 (l2) or max = min (min-max) normalizes to all zeros.
 * - Rebuffi, Fong, Ji, Vedaldi 2020: Spearman's rank correlation between the flattened maps of the
 *   max-scoring and the min-scoring class (average ranks for ties, `spearman.ts`), averaged over
 *   images; lower = more class-sensitive. NaN when either map is constant (e.g. all zero): skip it
 *   in the average (`summarize` counts it in `skipped`) and report how many.
 */
import { spearman } from './spearman.js';
import { checkSameSize, type MetricMap } from './types.js';

export type MapNormalization = 'l2' | 'minmax';

/** A normalized copy (float64) of the values: by the l2 norm (default) or min-max (see module note). */
export function normalizeValues(data: ArrayLike<number>, normalization: MapNormalization = 'l2'): Float64Array {
  const n = data.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) throw new RangeError(`normalizeValues: NaN at index ${i}`);
    out[i] = v;
  }
  if (normalization === 'l2') {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += out[i]! * out[i]!;
    const norm = Math.sqrt(ss);
    if (norm > 0) for (let i = 0; i < n; i++) out[i]! /= norm;
    return out;
  }
  if (normalization === 'minmax') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, out[i]!);
      hi = Math.max(hi, out[i]!);
    }
    const range = hi - lo;
    for (let i = 0; i < n; i++) out[i] = range > 0 ? (out[i]! - lo) / range : 0;
    return out;
  }
  throw new RangeError(`normalizeValues: unknown normalization '${String(normalization)}'`);
}

/** ‖normalize(a) − normalize(b)‖₂ (Nie et al. §4.3), normalization `'l2'` by default. */
export function normalizedL2Distance(a: MetricMap, b: MetricMap, normalization: MapNormalization = 'l2'): number {
  checkSameSize(a, b, 'normalizedL2Distance');
  const na = normalizeValues(a.data, normalization);
  const nb = normalizeValues(b.data, normalization);
  let ss = 0;
  for (let i = 0; i < na.length; i++) ss += (na[i]! - nb[i]!) ** 2;
  return Math.sqrt(ss);
}

/** Spearman's ρ between the max-class and the min-class maps (Rebuffi et al.); NaN if either is constant. */
export function classSensitivitySpearman(maxClassMap: MetricMap, minClassMap: MetricMap): number {
  checkSameSize(maxClassMap, minClassMap, 'classSensitivitySpearman');
  return spearman(maxClassMap.data, minClassMap.data);
}
