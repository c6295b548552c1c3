/**
 * Class scores from logits: softmax and the best classes, with names. Pure TypeScript (no Node
 * imports).
 *
 * ```ts
 * const r = await explainer.explain(tensor, { method: 'gradient', target: 'max' });
 * topK(r.logits, 5, presets.imagenet.classes);
 * // [{ index: 285, name: 'Egyptian cat', logit: 16.1, probability: 0.79 }, …]
 * softmax(r.logits);  // Float64Array of the first image's class probabilities
 * ```
 */
import { BacklightError } from '../errors.js';
import type { TensorLike } from './explainer.js';

/** One class and its score. */
export interface Prediction {
  index: number;
  /** From the class names given; null without. */
  name: string | null;
  logit: number;
  /** Softmax of the logits. */
  probability: number;
}

/** Logits as `explain` returns them ([N, classes]), or one image's row. */
export type Logits = TensorLike | ArrayLike<number>;

const isTensor = (x: Logits): x is TensorLike => typeof x === 'object' && x !== null && 'dims' in x && 'data' in x;

/** Image n's row of logits; refuses shapes that are not [N, C] or [C], and non-finite values. */
function logitRow(logits: Logits, image: number, what: string): ArrayLike<number> {
  let row: ArrayLike<number>;
  if (isTensor(logits)) {
    const { dims, data } = logits;
    const c = dims.at(-1) ?? 0;
    const n = dims.length === 2 ? dims[0]! : dims.length === 1 ? 1 : NaN;
    if (!(c > 0) || !Number.isInteger(n) || data.length !== n * c) throw new BacklightError(`${what}: logits must have shape [N, classes] or [classes], got [${dims.join(', ')}]`, 'usage');
    if (!(Number.isInteger(image) && image >= 0 && image < n)) throw new BacklightError(`${what}: image ${image} is not in a batch of ${n}`, 'usage');
    row = data.subarray(image * c, (image + 1) * c);
  } else {
    row = logits;
    if (!(row?.length > 0)) throw new BacklightError(`${what}: expected logits (a tensor or an array of numbers), got ${row === null ? 'null' : typeof row === 'object' ? 'an empty array' : typeof row}`, 'usage');
  }
  for (let i = 0; i < row.length; i++) {
    if (typeof row[i] !== 'number' || !Number.isFinite(row[i])) throw new BacklightError(`${what}: logit ${i} is ${String(row[i])}, not a finite number`);
  }
  return row;
}

/** Softmax of one row, in float64, shifted by the maximum so large logits do not overflow. */
function softmaxOf(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += out[i] = Math.exp(row[i]! - max);
  for (let i = 0; i < row.length; i++) out[i]! /= sum;
  return out;
}

/** The indices of the k largest probabilities, largest first (ties: the lower index first). */
function best(probs: Float64Array, k: number): number[] {
  return Array.from(probs.keys())
    .sort((a, b) => probs[b]! - probs[a]! || a - b)
    .slice(0, k);
}

/** The class probabilities of one image (default the first of the batch), in float64. */
export function softmax(logits: Logits, image = 0): Float64Array {
  return softmaxOf(logitRow(logits, image, 'softmax'));
}

/**
 * The k best classes of one image (default the first of the batch), best first (ties: the lower
 * index first), named from `classes` when given (e.g. `presets.imagenet.classes`).
 */
export function topK(logits: Logits, k = 5, classes: readonly string[] | null = null, image = 0): Prediction[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new BacklightError(`topK: k must be a positive integer, got ${k}`, 'usage');
  const row = logitRow(logits, image, 'topK');
  const probs = softmaxOf(row);
  return best(probs, k).map((i) => ({ index: i, name: classes?.[i] ?? null, logit: row[i]!, probability: probs[i]! }));
}

/** Softmax of image n's logits ([N, classes]), in float64. */
export function softmaxRow(logits: TensorLike, n: number): Float64Array {
  const c = logits.dims[1]!;
  return softmaxOf(logits.data.subarray(n * c, (n + 1) * c));
}

/** Class `index` of image n with its score. */
export function predictionOf(logits: TensorLike, probs: Float64Array, n: number, index: number, labels: readonly string[] | null): Prediction {
  const c = logits.dims[1]!;
  return { index, name: labels?.[index] ?? null, logit: logits.data[n * c + index]!, probability: probs[index]! };
}

/** The k best classes of image n, best first (ties: the lower index first). */
export function topPredictions(logits: TensorLike, n: number, labels: readonly string[] | null, k = 5): Prediction[] {
  const probs = softmaxRow(logits, n);
  return best(probs, k).map((i) => predictionOf(logits, probs, n, i, labels));
}

/** `285 Egyptian cat` with labels, `class 285` without. */
export function className(index: number, labels: readonly string[] | null): string {
  const name = labels?.[index];
  return name ? `${index} ${name}` : `class ${index}`;
}
