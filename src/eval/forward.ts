/**
 * Forward passes for perturbation metrics: the explainer's `predict` (the canonical graph, with a
 * trailing softmax removed, so its logits are the explained ones, on the explainer's runtime and
 * sessions), without any backward pass. Inputs are run in chunks of `chunk` images (1 for a model
 * whose batch is fixed to 1).
 */
import type { Explainer } from '../methods/explainer.js';

export class Forward {
  readonly chunk: number;
  private readonly perImage: number[];

  constructor(
    private readonly explainer: Explainer,
    /** Shape of one image, without the batch axis. */
    imageDims: readonly number[],
    chunk: number,
  ) {
    this.perImage = [...imageDims];
    this.chunk = explainer.inputShape[0] === 1 ? 1 : Math.max(1, chunk);
  }

  /** Logits of `n` stacked images ([n, classes], row-major). */
  async logits(data: Float32Array, n: number): Promise<{ data: Float32Array; classes: number }> {
    const size = this.perImage.reduce((a, b) => a * b, 1);
    if (data.length !== n * size) throw new Error(`Forward.logits: ${n} images need ${n * size} values, got ${data.length}`);
    const parts: Float32Array[] = [];
    let classes = 0;
    for (let start = 0; start < n; start += this.chunk) {
      const m = Math.min(this.chunk, n - start);
      const t = await this.explainer.predict({ data: data.subarray(start * size, (start + m) * size), dims: [m, ...this.perImage] });
      classes = t.dims[1]!;
      parts.push(t.data);
    }
    const all = new Float32Array(n * classes);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return { data: all, classes };
  }

  /** The sessions are the explainer's (released by `Explainer.release`). */
  async release(): Promise<void> {}
}

/** Softmax probability of class `c` in row `i` of [n, classes] logits (numerically stable). */
export function softmaxAt(logits: Float32Array, classes: number, i: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[i * classes + j]!);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(logits[i * classes + j]! - max);
  return Math.exp(logits[i * classes + c]! - max) / sum;
}

/** Index of the largest logit of row i. */
export function argmaxRow(logits: Float32Array, classes: number, i: number): number {
  let best = 0;
  for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + best]!) best = j;
  return best;
}
