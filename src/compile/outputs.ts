/**
 * The output phase: K-major signals back to [N, K, …], the `attribution` output and its per-image
 * maps `map_<reduction>`, and the taps `act:<tensor>` / `grad:<tensor>`.
 */
import { BacklightError } from '../errors.js';
import { addOutput, type Compilation, type Reduction } from './compilation.js';
import { seedHalf } from './contrastive.js';
import type { BackwardPass } from './backward.js';
import type { Emitter } from '../ir/emitter.js';

/** A K-major signal [K·n, …rest] of a tensor of shape [n, …rest] as [n, K, …rest]; a transpose only when both K and n exceed 1. */
export function perImage(c: Compilation, emit: Emitter, signal: string, shape: readonly number[]): string {
  const { k } = c;
  const n = shape[0]!;
  const rest = shape.slice(1);
  if (k === 1 || n === 1) return emit.reshape(signal, [n, k, ...rest]);
  const t = emit.op('Transpose', [emit.reshape(signal, [k, n, ...rest])], { perm: [1, 0, ...rest.map((_, i) => i + 2)] });
  return emit.reshape(t, [n, k, ...rest]);
}

/**
 * Makes `attribution` ([N, K, C, …], or [N, K, …, C] with `channelAxis` last) the `attribution`
 * output, with its maps.
 */
export function emitAttribution(c: Compilation, emit: Emitter, attribution: string, shape: number[], reductions: readonly Reduction[], channelAxis = 2): void {
  addOutput(c, emit, attribution, 'attribution', shape);
  emitReductions(c, emit, reductions, shape, channelAxis);
}

/** One map per image and target, `map_<r>` [N, K, …spatial]: the attribution reduced over its channel axis (2, or the last for channels-last inputs). */
export function emitReductions(c: Compilation, emit: Emitter, reductions: readonly Reduction[], attributionShape: readonly number[], channelAxis = 2): void {
  const mapShape = attributionShape.filter((_, i) => i !== channelAxis);
  for (const r of reductions) {
    const reduced =
      r === 'maxabs' ? emit.op('ReduceMax', [emit.op('Abs', ['attribution'])], { axes: [channelAxis], keepdims: 0 }) :
      r === 'sum' ? emit.op('ReduceSum', ['attribution', emit.int64s([channelAxis])], { keepdims: 0 }) :
      emit.op('ReduceL2', ['attribution'], { axes: [channelAxis], keepdims: 0 });
    addOutput(c, emit, reduced, `map_${r}`, mapShape);
  }
}

/**
 * The pass's signals at forward tensors as [N, K, …] (with a contrastive method, the explained
 * concept's half), by tensor. Those in `outputs` also become the outputs `act:<t>` [N, …] and
 * `grad:<t>` [N, K, …].
 */
export function emitTaps(c: Compilation, pass: BackwardPass, tensors: readonly string[], outputs: ReadonlySet<string>): Map<string, string> {
  const { emit, signals } = pass;
  const g = c.graph;
  const result = new Map<string, string>();
  for (const tap of tensors) {
    const shape = g.values.get(tap)?.shape as number[] | undefined;
    if (!shape || !signals.live.has(tap)) throw new BacklightError(`no input-dependent tensor named '${tap}' in the model (layer taps name tensors, e.g. a Relu output)`, 'usage');
    const rows = (pass.options.contrastive ? 2 : 1) * c.k * shape[0]!;
    let grad = signals.at(tap) ?? emit.op('ConstantOfShape', [emit.int64s([rows, ...shape.slice(1)])]);
    if (pass.options.contrastive) grad = seedHalf(emit, grad, c.k * shape[0]!);
    if (outputs.has(tap)) addOutput(c, emit, tap, `act:${tap}`, shape);
    const signal = perImage(c, emit, grad, shape);
    if (outputs.has(tap)) addOutput(c, emit, signal, `grad:${tap}`, [shape[0]!, c.k, ...shape.slice(1)]);
    result.set(tap, signal);
  }
  return result;
}
