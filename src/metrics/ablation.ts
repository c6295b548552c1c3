/**
 * Perturbation metrics: they build the perturbed inputs; the caller runs the model and measures.
 *
 * **Patch ablation** (Gu, Yang, Tresp 2018, §5.2): replace a square patch of the input, centred on
 * the map's maximum (the first maximum in row-major order, as in the pointing game), by the
 * dataset mean at the same place, and measure the drop of the target logit; compare with a patch at a
 * uniformly random pixel. A patch of side s around (cx, cy) covers columns cx − ⌊s/2⌋ … cx − ⌊s/2⌋ + s − 1
 * (for odd s: ⌊s/2⌋ on each side; for even s one more on the left/top), rows likewise, **clipped** at
 * the borders (the patch shrinks; it is not shifted back inside).
 *
 * **Deletion / insertion** (Petsiuk, Das, Saenko 2018, "RISE"): order the pixels by decreasing map
 * value (ties in row-major order; the map is used as given, signed or not — pass |map| for
 * magnitude). With n pixels and `steps` steps, step k (0 … steps) has the first round(k·n/steps)
 * pixels of that order changed, all channels at once:
 * - deletion: start from the input, set those pixels to the baseline (step 0 = the input, step
 *   `steps` = the baseline);
 * - insertion: start from the baseline, set those pixels to the input's values (step 0 = the
 *   baseline, step `steps` = the input).
 * The caller scores every step (e.g. the target's softmax probability) and takes `auc`: low for
 * deletion and high for insertion mean a good map.
 *
 * "Mean" and "baseline" values: a number (every element), one value per channel (length C), or a
 * whole image (length C·H·W: a dataset-mean image, a blurred copy of the input, …), in the model's
 * input space (after preprocessing). Inputs are one image, dims [C, H, W] or [1, C, H, W].
 */
import { descendingOrder } from './order.js';
import { argmaxPoint } from './pointingGame.js';
import { mulberry32, randomInt } from './random.js';
import { summarize, type Summary } from './stats.js';
import { checkMap, type ImageTensorLike, imageShape, type MetricMap, type Rng } from './types.js';

/** A number, one value per channel, or a whole C·H·W image. */
export type Fill = number | ArrayLike<number>;

/** A half-open pixel rectangle: columns x0 ≤ x < x1, rows y0 ≤ y < y1. */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The square patch of side `size` centred on pixel (cx, cy), clipped to the image (see module note). */
export function patchAround(cx: number, cy: number, size: number, width: number, height: number): PixelRect {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`patchAround: size must be a positive integer, got ${size}`);
  const half = Math.floor(size / 2);
  const x0 = cx - half;
  const y0 = cy - half;
  return {
    x0: Math.max(0, x0),
    y0: Math.max(0, y0),
    x1: Math.min(width, x0 + size),
    y1: Math.min(height, y0 + size),
  };
}

type FillAt = (c: number, i: number) => number;

/** A reader of the fill value at channel c, pixel i (= y·W + x). */
function fillReader(fill: Fill, channels: number, pixels: number, what: string): FillAt {
  if (typeof fill === 'number') return () => fill;
  if (fill.length === channels) return (c) => fill[c]!;
  if (fill.length === channels * pixels) return (c, i) => fill[c * pixels + i]!;
  throw new RangeError(`${what}: expected a number, ${channels} per-channel values or ${channels * pixels} values, got ${fill.length}`);
}

/** A copy of the input with the rectangle replaced by the fill (all channels). */
export function fillRect(input: ImageTensorLike, rect: PixelRect, fill: Fill): Float32Array {
  const { channels, height, width } = imageShape(input);
  const n = height * width;
  const at = fillReader(fill, channels, n, 'fillRect');
  const out = Float32Array.from(input.data);
  for (let c = 0; c < channels; c++) {
    for (let y = Math.max(0, rect.y0); y < Math.min(height, rect.y1); y++) {
      for (let x = Math.max(0, rect.x0); x < Math.min(width, rect.x1); x++) {
        const i = y * width + x;
        out[c * n + i] = at(c, i);
      }
    }
  }
  return out;
}

export interface PatchOptions {
  /** Side of the square patch, in pixels. */
  patchSize: number;
  /** The dataset mean: a number, per-channel values, or a whole mean image. */
  mean: Fill;
}

/** A perturbed input and where it was changed. */
export interface Ablated {
  data: Float32Array;
  /** The patch's centre pixel. */
  center: { x: number; y: number };
  patch: PixelRect;
}

/** The input with the patch around the map's (first) maximum replaced by the mean. */
export function ablateAtMax(input: ImageTensorLike, map: MetricMap, options: PatchOptions): Ablated {
  const { height, width } = imageShape(input);
  checkMap(map);
  if (map.width !== width || map.height !== height) {
    throw new RangeError(`ablateAtMax: map is ${map.width}×${map.height}, input ${width}×${height}`);
  }
  const { x, y } = argmaxPoint(map);
  const patch = patchAround(x, y, options.patchSize, width, height);
  return { data: fillRect(input, patch, options.mean), center: { x, y }, patch };
}

/** The input with the patch around a uniformly random pixel replaced by the mean (seeded). */
export function ablateAtRandom(input: ImageTensorLike, options: PatchOptions & { rng?: Rng; seed?: number }): Ablated {
  const { height, width } = imageShape(input);
  const rng = options.rng ?? mulberry32(options.seed ?? 0);
  const i = randomInt(rng, width * height);
  const x = i % width;
  const y = Math.floor(i / width);
  const patch = patchAround(x, y, options.patchSize, width, height);
  return { data: fillRect(input, patch, options.mean), center: { x, y }, patch };
}

/** Drops before − after per image (or (before − after) / |before| with `relative`), and their summary. */
export function summarizeDrops(
  before: ArrayLike<number>,
  after: ArrayLike<number>,
  options: { relative?: boolean } = {},
): Summary & { drops: Float64Array } {
  if (before.length !== after.length) throw new RangeError(`summarizeDrops: lengths differ (${before.length} vs ${after.length})`);
  const drops = new Float64Array(before.length);
  for (let i = 0; i < drops.length; i++) {
    const d = before[i]! - after[i]!;
    drops[i] = options.relative ? d / Math.abs(before[i]!) : d;
  }
  return { ...summarize(drops), drops };
}

export interface CurveOptions {
  mode: 'deletion' | 'insertion';
  /** Number of steps (the curve has steps + 1 points). */
  steps: number;
  /** The value of a deleted pixel / the starting image of insertion: number, per channel, or C·H·W. */
  baseline: Fill;
  /** Perturbed inputs per yielded batch (default 16). */
  batchSize?: number;
}

/** Consecutive steps of a deletion or insertion curve, stacked as one [count, C, H, W] batch. */
export interface PerturbationBatch {
  /** Step index of the batch's first input. */
  start: number;
  count: number;
  /** Changed pixels / all pixels at each step, in [0, 1]. */
  fractions: Float64Array;
  data: Float32Array;
  dims: [number, number, number, number];
}

/** Pixels changed at step k of `steps` for n pixels: round(k·n / steps). */
export function pixelsAtStep(k: number, steps: number, n: number): number {
  return Math.round((k * n) / steps);
}

/**
 * The perturbed inputs of a deletion or insertion curve, `batchSize` steps at a time (fresh arrays
 * per batch, so a caller may keep them). Memory: one working image plus one batch.
 */
export function* perturbationBatches(input: ImageTensorLike, map: MetricMap, options: CurveOptions): Generator<PerturbationBatch> {
  const { channels, height, width } = imageShape(input);
  checkMap(map);
  if (map.width !== width || map.height !== height) {
    throw new RangeError(`perturbationBatches: map is ${map.width}×${map.height}, input ${width}×${height}`);
  }
  const { steps, mode } = options;
  if (!Number.isInteger(steps) || steps <= 0) throw new RangeError(`perturbationBatches: steps must be a positive integer, got ${steps}`);
  if (mode !== 'deletion' && mode !== 'insertion') throw new RangeError(`perturbationBatches: unknown mode '${String(mode)}'`);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`perturbationBatches: batchSize must be a positive integer, got ${batchSize}`);
  const n = height * width;
  const size = channels * n;
  const base = fillReader(options.baseline, channels, n, 'perturbationBatches: baseline');
  const order = descendingOrder(map.data);
  // Deletion moves pixels from the input to the baseline; insertion from the baseline to the input.
  const work = new Float32Array(size);
  if (mode === 'deletion') work.set(input.data);
  else for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) work[c * n + i] = base(c, i);
  const target: FillAt = mode === 'deletion' ? base : (c, i) => input.data[c * n + i]!;
  let done = 0;
  for (let start = 0; start <= steps; start += batchSize) {
    const count = Math.min(batchSize, steps + 1 - start);
    const data = new Float32Array(count * size);
    const fractions = new Float64Array(count);
    for (let b = 0; b < count; b++) {
      const upto = pixelsAtStep(start + b, steps, n);
      for (; done < upto; done++) {
        const i = order[done]!;
        for (let c = 0; c < channels; c++) work[c * n + i] = target(c, i);
      }
      data.set(work, b * size);
      fractions[b] = upto / n;
    }
    yield { start, count, fractions, data, dims: [count, channels, height, width] };
  }
}

/**
 * Area under a curve by the trapezoidal rule, x normalized to [0, 1]: with `xs`,
 * x' = (x − x₀) / (x_last − x₀) (xs non-decreasing, x_last > x₀); without, the points are evenly
 * spaced from 0 to 1. At least two points.
 */
export function auc(scores: ArrayLike<number>, xs?: ArrayLike<number>): number {
  const m = scores.length;
  if (m < 2) throw new RangeError(`auc: need at least 2 points, got ${m}`);
  if (xs !== undefined && xs.length !== m) throw new RangeError(`auc: ${m} scores but ${xs.length} x values`);
  let area = 0;
  if (xs === undefined) {
    for (let i = 1; i < m; i++) area += (scores[i - 1]! + scores[i]!) / 2;
    return area / (m - 1);
  }
  const span = xs[m - 1]! - xs[0]!;
  if (!(span > 0)) throw new RangeError('auc: x values must increase from first to last');
  for (let i = 1; i < m; i++) {
    const dx = xs[i]! - xs[i - 1]!;
    if (dx < 0) throw new RangeError('auc: x values must be non-decreasing');
    area += (dx * (scores[i - 1]! + scores[i]!)) / 2;
  }
  return area / span;
}

/**
 * Runs a whole deletion or insertion curve: builds the batches, asks `score` for one number per
 * input of each batch (e.g. the target's probability from the model), and returns the curve and its
 * AUC over the pixel fractions.
 */
export async function perturbationCurve(
  input: ImageTensorLike,
  map: MetricMap,
  options: CurveOptions,
  score: (batch: PerturbationBatch) => ArrayLike<number> | Promise<ArrayLike<number>>,
): Promise<{ fractions: number[]; scores: number[]; auc: number }> {
  const fractions: number[] = [];
  const scores: number[] = [];
  for (const batch of perturbationBatches(input, map, options)) {
    const s = await score(batch);
    if (s.length !== batch.count) throw new RangeError(`perturbationCurve: score returned ${s.length} values for ${batch.count} inputs`);
    for (let b = 0; b < batch.count; b++) {
      fractions.push(batch.fractions[b]!);
      scores.push(s[b]!);
    }
  }
  return { fractions, scores, auc: auc(scores, fractions) };
}
