/**
 * Map similarity, for the sanity checks (a map vs the map of a randomized model) and the
 * random-network recovery (a map vs the input image).
 *
 * - `pearsonMaps`: Pearson's correlation of the flattened maps (NaN when either is constant); it is
 *   invariant to affine rescaling of either map, so no normalization is needed.
 * - `ssim`: the mean structural similarity of Wang, Bovik, Sheikh, Simoncelli (2004). Both maps are
 *   first **min-max normalized** to [0, 1] (a constant map becomes all zeros; `normalize: 'none'`
 *   skips this), because saliency maps have arbitrary scales. Then, with an 11×11 Gaussian window
 *   w (σ = 1.5, weights summing to 1), at every position where the window lies wholly inside the map
 *   ("valid" positions, as in the authors' reference code and scikit-image's cropped mean):
 *     μx = Σ w·x, σx² = Σ w·x² − μx², σxy = Σ w·x·y − μx·μy (likewise for y),
 *     SSIM = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
 *   C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01, K2 = 0.03, L the data range: 1 after min-max
 *   normalization, else `dataRange` or, by default, max − min over both maps (1 if that is 0).
 *   The result is the mean over valid positions. Maps must be at least `windowSize` on each side.
 */
import { pearson } from './spearman.js';
import { checkSameSize, type MetricMap } from './types.js';

/** Pearson's correlation of two maps of the same size. */
export function pearsonMaps(a: MetricMap, b: MetricMap): number {
  checkSameSize(a, b, 'pearsonMaps');
  return pearson(a.data, b.data);
}

export interface SsimOptions {
  /** `'minmax'` (default): scale each map to [0, 1] first; `'none'`: use the values as they are. */
  normalize?: 'minmax' | 'none';
  /** L; default 1 after min-max normalization, else max − min over both maps. */
  dataRange?: number;
  /** Side of the Gaussian window, odd (default 11). */
  windowSize?: number;
  /** Its standard deviation (default 1.5). */
  sigma?: number;
  k1?: number;
  k2?: number;
}

/** The normalized 1-D Gaussian weights of a window (their outer product is the 2-D window). */
export function gaussianWindow(size = 11, sigma = 1.5): Float64Array {
  if (!Number.isInteger(size) || size <= 0 || size % 2 === 0) throw new RangeError(`gaussianWindow: size must be a positive odd integer, got ${size}`);
  if (!(sigma > 0)) throw new RangeError(`gaussianWindow: sigma must be > 0, got ${sigma}`);
  const half = (size - 1) / 2;
  const w = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += w[i]!;
  }
  for (let i = 0; i < size; i++) w[i]! /= sum;
  return w;
}

function minMax(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) throw new RangeError(`ssim: NaN at index ${i}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function toFloat64(data: ArrayLike<number>, normalize: boolean): Float64Array {
  const out = Float64Array.from(data);
  const [lo, hi] = minMax(out);
  if (normalize) {
    const range = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = range > 0 ? (out[i]! - lo) / range : 0;
  }
  return out;
}

/** Separable "valid" filtering of a W×H image with the 1-D window w: (W − s + 1)×(H − s + 1). */
function filterValid(img: Float64Array, width: number, height: number, w: Float64Array): Float64Array {
  const s = w.length;
  const ow = width - s + 1;
  const oh = height - s + 1;
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < s; k++) acc += w[k]! * img[y * width + x + k]!;
      rows[y * ow + x] = acc;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < s; k++) acc += w[k]! * rows[(y + k) * ow + x]!;
      out[y * ow + x] = acc;
    }
  }
  return out;
}

/** The per-position SSIM over the valid positions, (H − s + 1) × (W − s + 1), row-major. */
export function ssimMap(a: MetricMap, b: MetricMap, options: SsimOptions = {}): { data: Float64Array; width: number; height: number } {
  checkSameSize(a, b, 'ssim');
  const { width, height } = a;
  const size = options.windowSize ?? 11;
  const w = gaussianWindow(size, options.sigma ?? 1.5);
  if (width < size || height < size) throw new RangeError(`ssim: maps (${width}×${height}) must be at least ${size}×${size}`);
  const normalize = (options.normalize ?? 'minmax') === 'minmax';
  const x = toFloat64(a.data, normalize);
  const y = toFloat64(b.data, normalize);
  let range = options.dataRange;
  if (range === undefined) {
    if (normalize) range = 1;
    else {
      const [la, ha] = minMax(x);
      const [lb, hb] = minMax(y);
      range = Math.max(ha, hb) - Math.min(la, lb);
      if (!(range > 0)) range = 1;
    }
  }
  if (!(range > 0)) throw new RangeError(`ssim: dataRange must be > 0, got ${range}`);
  const c1 = ((options.k1 ?? 0.01) * range) ** 2;
  const c2 = ((options.k2 ?? 0.03) * range) ** 2;
  const n = x.length;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i]! * x[i]!;
    yy[i] = y[i]! * y[i]!;
    xy[i] = x[i]! * y[i]!;
  }
  const mx = filterValid(x, width, height, w);
  const my = filterValid(y, width, height, w);
  const mxx = filterValid(xx, width, height, w);
  const myy = filterValid(yy, width, height, w);
  const mxy = filterValid(xy, width, height, w);
  const out = new Float64Array(mx.length);
  for (let i = 0; i < out.length; i++) {
    const ux = mx[i]!;
    const uy = my[i]!;
    const vx = mxx[i]! - ux * ux;
    const vy = myy[i]! - uy * uy;
    const cxy = mxy[i]! - ux * uy;
    out[i] = ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return { data: out, width: width - size + 1, height: height - size + 1 };
}

/** Mean SSIM of two maps (see the module note for the definition and defaults). */
export function ssim(a: MetricMap, b: MetricMap, options: SsimOptions = {}): number {
  const m = ssimMap(a, b, options);
  let sum = 0;
  for (let i = 0; i < m.data.length; i++) sum += m.data[i]!;
  return sum / m.data.length;
}
