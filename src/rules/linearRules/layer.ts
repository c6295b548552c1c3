/** What every LRP rule of a linear layer works with, and the helpers several rules share. */
import { asFloat32, float32, sizeOf, type Tensor } from '../../ir/tensor.js';
import { linearOps, type LinearOps } from '../linearOps.js';
import { divideByStabilized, relevanceProduct } from '../relevance.js';
import { mulFact, refuse } from '../signal.js';
import type { LinearRule, RuleContext } from '../types.js';

/** One linear layer (Conv, Gemm or MatMul) as an LRP rule sees it. */
export interface LinearLayer {
  readonly ctx: RuleContext;
  readonly ops: LinearOps;
  /** The weight (a Gemm's α folded in). */
  readonly w: Tensor;
  /** The bias (a Gemm's β folded in); undefined when the layer has none or the rule ignores it. */
  readonly b: Tensor | undefined;
  /** The layer input and its shape. */
  readonly x: string;
  readonly xs: number[];
  /** The relevance arriving at the layer output (K-major). */
  readonly R: string;
  /**
   * The layer's own output z = Wx + b, when nothing is substituted (a node given a substituted
   * weight, as CLRP2's dual pass does, is not in the graph); a rule may use it instead of
   * recomputing z.
   */
  readonly ownOutput: string | undefined;
  /** input ⊙ c for a K-major signal c of the input's shape (a relevance product, or a broadcast one for a constant). */
  times(input: string, c: string): string;
  /** a − c. */
  sub(a: string, c: string): string;
}

/** An LRP rule for linear layers: the relevance of the layer input. */
export type LinearRuleImpl<R extends LinearRule = LinearRule> = (layer: LinearLayer, rule: R) => string;

export function linearLayer(ctx: RuleContext, rule: LinearRule): LinearLayer {
  const { node, emit } = ctx;
  const { ops, weights } = linearOps(ctx);
  const x = node.inputs[0]!;
  const xs = ctx.shape(x);
  const b = rule.ignoreBias ? undefined : weights.b;
  return {
    ctx,
    ops,
    w: weights.w,
    b,
    x,
    xs,
    R: ctx.signals[0]!,
    ownOutput: b === weights.b && ctx.graph.nodes.includes(node) ? node.outputs[0]! : undefined,
    times: (input, c) =>
      ctx.graph.initializers.has(input) ? mulFact(ctx, c, xs, input, [1, ...xs.slice(1)]) : relevanceProduct(ctx, input, c, xs),
    sub: (a, c) => emit.op('Sub', [a, c]),
  };
}

/**
 * The layer's bias plus `delta` (a new bias when it has none). Where z = W'x' + b' has one sign by
 * construction (W' ≥ 0, x' ≥ 0, b' ≥ 0, or all ≤ 0), stab(z) = z ± ε is computed by the layer
 * itself with the stabilizer in its bias. Where z = 0 every term W'ᵢⱼx'ᵢ is 0 too, so the relevance
 * it sends back is 0 whichever sign the stabilizer takes there.
 */
export function shiftedBias(ctx: RuleContext, b: Tensor | undefined, delta: number): Tensor {
  const n = ctx.shape(ctx.node.outputs[0]!)[1]!;
  const src = b ? asFloat32(b) : undefined;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (src ? src[i]! : 0) + delta;
  return float32([n], out);
}

/** Sum of forward tensors (undefined terms skipped). */
export function sumOf(ctx: RuleContext, terms: (string | undefined)[], hint: string): string {
  const present = terms.filter((t): t is string => t !== undefined);
  return present.length === 1 ? present[0]! : ctx.emit.op('Sum', present, {}, hint);
}

/** A constant tensor of the layer input's shape (batch 1) holding one value per channel. */
export function perChannel(ctx: RuleContext, values: readonly number[], hint: string): string {
  const xs = ctx.shape(ctx.node.inputs[0]!);
  const features = sizeOf(xs.slice(1));
  // Per image channel: channels are the outer axis of [C, …] and of a flattened [C·H·W] alike.
  const c = values.length === 1 ? 1 : xs.length > 2 ? xs[1]! : values.length;
  if (values.length !== 1 && (values.length !== c || features % c !== 0)) {
    refuse(ctx, `${hint} bounds need 1 value or one per input channel (${xs.length > 2 ? xs[1] : 'a divisor of ' + features}), got ${values.length}`);
  }
  const per = features / c;
  const data = new Float32Array(features);
  for (let i = 0; i < c; i++) data.fill(values[i]!, i * per, (i + 1) * per);
  return ctx.emit.constant(float32([1, ...xs.slice(1)], data), `${ctx.node.name}/${hint}`);
}

/**
 * Rules that ignore the input (w², flat): z = W'·1 + b' and R = W'ᵀ(R / stab(z)), with the
 * modified weight W' and bias b'.
 */
export function uniformInputRelevance(l: LinearLayer, wm: Tensor, bm: Tensor | undefined, hint: string): string {
  const { ctx, ops } = l;
  const ones = perChannel(ctx, [1], 'ones');
  const z = ops.forward(ones, wm, bm, hint);
  const s = divideByStabilized(ctx, l.R, z);
  return ops.backward(s, wm, hint);
}
