/**
 * The fast gradient sign method (Goodfellow, Shlens, Szegedy 2015), as Nie et al. (2018, §4.4) use
 * it to test whether a saliency method follows the decision or recovers the image:
 *
 *   x' = clip(x + ε · sign(∇ₓ CE(z(x), y)), low, high)
 *
 * with CE the softmax cross-entropy of the logits z and the class y. Its gradient with respect to
 * the logits is softmax(z) − onehot(y) (`crossEntropySeeds`): fed as the seed of a plain gradient
 * backward pass it gives ∇ₓ CE, so the attack needs no other machinery than the explanation graph.
 * sign(0) = 0. The step ε is per channel (a step of ε in [0, 1] pixel units is ε / std_c after the
 * usual (x − mean_c) / std_c normalization), and the result is clipped per channel to the values of
 * a black and a white pixel so that x' is still an image.
 */

/** softmax(z_i) − onehot(y_i) for every row i of [n, classes] logits: ∂ CE / ∂ z, float32 [n, 1, classes]. */
export function crossEntropySeeds(logits: ArrayLike<number>, classes: number, targets: readonly number[]): Float32Array {
  const n = targets.length;
  if (logits.length !== n * classes) throw new RangeError(`crossEntropySeeds: ${n} rows of ${classes} classes need ${n * classes} logits, got ${logits.length}`);
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const y = targets[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < classes)) throw new RangeError(`crossEntropySeeds: target ${y} of row ${i} is not a class in 0…${classes - 1}`);
    const p = softmaxRow(logits, classes, i);
    for (let c = 0; c < classes; c++) out[i * classes + c] = p[c]! - (c === y ? 1 : 0);
  }
  return out;
}

/** The softmax of row i of [n, classes] logits (float64, numerically stable). */
function softmaxRow(logits: ArrayLike<number>, classes: number, i: number): Float64Array {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]!);
  const p = new Float64Array(classes);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    p[c] = Math.exp(logits[i * classes + c]! - max);
    sum += p[c]!;
  }
  for (let c = 0; c < classes; c++) p[c]! /= sum;
  return p;
}

/** CE(z_i, y) = −log softmax(z_i)_y. */
export function crossEntropy(logits: ArrayLike<number>, classes: number, i: number, y: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]!);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c]! - max);
  return Math.log(sum) - (logits[i * classes + y]! - max);
}

export interface FgsmOptions {
  /** The step per channel, in the input's own units (one value, or one per channel). */
  step: number | readonly number[];
  /** Per-channel bounds of a valid input (omit for no clipping). */
  bounds?: { low: readonly number[]; high: readonly number[] };
}

/**
 * One FGSM step on a batch of NCHW inputs: x + step_c · sign(gradient), clipped to the bounds.
 * `dims` is [N, C, H, W] (or [C, H, W]); `gradient` has the same length as `x`.
 */
export function fgsmStep(x: Float32Array, gradient: ArrayLike<number>, dims: readonly number[], options: FgsmOptions): Float32Array {
  if (gradient.length !== x.length) throw new RangeError(`fgsmStep: the gradient has ${gradient.length} values, the input ${x.length}`);
  if (dims.length !== 3 && dims.length !== 4) throw new RangeError(`fgsmStep: dims must be [N, C, H, W] or [C, H, W], got [${dims.join(', ')}]`);
  const [c, h, w] = dims.slice(-3) as [number, number, number];
  const plane = h * w;
  if (x.length % (c * plane) !== 0) throw new RangeError(`fgsmStep: dims [${dims.join(', ')}] do not fit ${x.length} values`);
  const perChannel = (v: number | readonly number[], what: string): number[] => {
    const a = typeof v === 'number' ? new Array<number>(c).fill(v) : [...v];
    if (a.length !== c || a.some((s) => !Number.isFinite(s))) throw new RangeError(`fgsmStep: ${what} needs ${c} finite values, got [${a.join(', ')}]`);
    return a;
  };
  const step = perChannel(options.step, 'step');
  const low = options.bounds ? perChannel(options.bounds.low, 'bounds.low') : null;
  const high = options.bounds ? perChannel(options.bounds.high, 'bounds.high') : null;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % c;
    const g = gradient[i]!;
    let v = x[i]! + step[ch]! * (g > 0 ? 1 : g < 0 ? -1 : 0);
    if (low && high) v = Math.min(high[ch]!, Math.max(low[ch]!, v));
    out[i] = v;
  }
  return out;
}
