/** Class scores from logits: softmax and the best classes. Pure TypeScript (no Node imports). */
import type { TensorLike } from './explainer.js';

/** One class and its score. */
export interface Prediction {
  index: number;
  /** From a labels file; null without. */
  name: string | null;
  logit: number;
  /** Softmax of the logits. */
  probability: number;
}

/** Softmax of image n's logits ([N, classes]), in float64. */
export function softmaxRow(logits: TensorLike, n: number): Float64Array {
  const c = logits.dims[1]!;
  const row = logits.data.subarray(n * c, (n + 1) * c);
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  const out = new Float64Array(c);
  let sum = 0;
  for (let i = 0; i < c; i++) sum += out[i] = Math.exp(row[i]! - max);
  for (let i = 0; i < c; i++) out[i]! /= sum;
  return out;
}

/** Class `index` of image n with its score. */
export function predictionOf(logits: TensorLike, probs: Float64Array, n: number, index: number, labels: readonly string[] | null): Prediction {
  const c = logits.dims[1]!;
  return { index, name: labels?.[index] ?? null, logit: logits.data[n * c + index]!, probability: probs[index]! };
}

/** The k best classes of image n, best first (ties: the lower index first). */
export function topPredictions(logits: TensorLike, n: number, labels: readonly string[] | null, k = 5): Prediction[] {
  const probs = softmaxRow(logits, n);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  return order.slice(0, k).map((i) => predictionOf(logits, probs, n, i, labels));
}

/** `285 Egyptian cat` with labels, `class 285` without. */
export function className(index: number, labels: readonly string[] | null): string {
  const name = labels?.[index];
  return name ? `${index} ${name}` : `class ${index}`;
}
