/**
 * Scaling saliency maps for display by percentile clipping. Pure TypeScript (no Node imports).
 *
 * A signed map is divided by the `percentile`-th percentile of |values| and clipped to [−1, 1], so
 * 0 stays 0 and the sign is kept. A magnitude map is divided by the percentile of its values and
 * clipped to [0, 1] (negative values become 0). The default percentile, 99.5, keeps a few extreme
 * pixels from washing out the rest of the map.
 *
 * The percentile is found by selection (quickselect on a Float32Array copy, O(n)), not by sorting
 * objects: about a millisecond for 224 × 224. Non-finite values (NaN, ±Infinity) are left out of
 * the percentile; in the output NaN becomes 0 and ±Infinity is clipped like any large value.
 */
import { BacklightError } from '../errors.js';

export const DEFAULT_PERCENTILE = 99.5;

export interface NormalizeOptions {
  /** true: keep the sign, scale to [−1, 1]; false: a magnitude, scaled to [0, 1]. */
  signed: boolean;
  /** Percentile (0–100] of |values| (signed) or values (magnitude) that maps to 1. Default 99.5. */
  percentile?: number;
  /**
   * The value that maps to 1, instead of a percentile: e.g. one scale shared by several maps
   * (from `clipScale` on their concatenation). 0 or less maps everything to 0.
   */
  scale?: number;
}

export interface NormalizedMap {
  /** Values in [−1, 1] (signed) or [0, 1] (magnitude). */
  data: Float32Array;
  signed: boolean;
  /** The value that was mapped to 1 (0 for a map with nothing to show). */
  scale: number;
}

function checkPercentile(p: number): void {
  if (!(p > 0 && p <= 100)) throw new BacklightError(`percentile must be in (0, 100], got ${p}`, 'usage');
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of the finite values, with linear interpolation between order
 * statistics (NumPy's default). NaN for an array without finite values. Does not modify `values`.
 */
export function percentile(values: ArrayLike<number>, p: number, abs = false): number {
  if (!(p >= 0 && p <= 100)) throw new BacklightError(`percentile must be in [0, 100], got ${p}`, 'usage');
  const buf = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) buf[n++] = abs ? Math.abs(v) : v;
  }
  if (n === 0) return NaN;
  const a = buf.subarray(0, n);
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const vlo = select(a, lo);
  if (rank === lo) return vlo;
  // After select, a[lo + 1 …] holds the values ≥ a[lo]: the next order statistic is their minimum.
  let vhi = Infinity;
  for (let i = lo + 1; i < n; i++) if (a[i]! < vhi) vhi = a[i]!;
  return vlo + (vhi - vlo) * (rank - lo);
}

/**
 * Puts the k-th smallest value at a[k], smaller or equal values before it and greater or equal
 * values after it (Hoare partitioning around a median of three), and returns it.
 */
function select(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

/**
 * The value a map is divided by: the percentile of |values| (signed) or of values (magnitude).
 * When that percentile is 0 but the map is not (a sparse map), the largest value is used instead;
 * a map with nothing to show gives 0.
 */
export function clipScale(map: ArrayLike<number>, signed: boolean, p = DEFAULT_PERCENTILE): number {
  checkPercentile(p);
  let s = percentile(map, p, signed);
  if (!(s > 0)) {
    s = 0;
    for (let i = 0; i < map.length; i++) {
      const v = signed ? Math.abs(map[i]!) : map[i]!;
      if (v > s && Number.isFinite(v)) s = v;
    }
  }
  return s;
}

/** Scales and clips a map to [−1, 1] (signed) or [0, 1] (magnitude); see the file comment. */
export function normalizeMap(map: ArrayLike<number>, options: NormalizeOptions): NormalizedMap {
  const { signed } = options;
  const scale = options.scale ?? clipScale(map, signed, options.percentile ?? DEFAULT_PERCENTILE);
  const data = new Float32Array(map.length);
  if (scale > 0 && Number.isFinite(scale)) {
    const inv = 1 / scale;
    const low = signed ? -1 : 0;
    for (let i = 0; i < map.length; i++) {
      const v = map[i]! * inv;
      // NaN fails both tests and stays 0.
      data[i] = v > 1 ? 1 : v < low ? low : v === v ? v : 0;
    }
  }
  return { data, signed, scale: scale > 0 && Number.isFinite(scale) ? scale : 0 };
}
