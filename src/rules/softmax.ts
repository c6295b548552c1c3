/**
 * Softmax and LogSoftmax inside the graph (attention weights; a trailing softmax is removed by
 * canonicalization). Gradient, sums along the op's axis: softmax dx = y ⊙ (R − Σ R ⊙ y),
 * log-softmax dx = R − softmax(x) ⊙ Σ R.
 * LRP (AttnLRP, Achtibat et al. 2024, Prop. 3.1): the ε rule on the first-order expansion of
 * s = softmax(x) at x, whose Jacobian divided by s_j is δ_ij − s_i: R_x = x ⊙ (R − s ⊙ Σ R).
 * Design history: docs/design/modern-blocks.md
 */
import { attrInt } from '../ir/graph.js';
import { relevanceProduct } from './relevance.js';
import { mulFact, refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** The op's axis (never the batch axis) and the output shape. */
function axisOf(ctx: RuleContext): { axis: number; s: number[] } {
  const s = ctx.shape(ctx.node.outputs[0]!);
  const a = attrInt(ctx.node, 'axis', -1);
  const axis = a < 0 ? a + s.length : a;
  if (axis === 0) refuse(ctx, 'a softmax over the batch axis is not supported');
  return { axis, s };
}

/** Σ along the axis, kept as size 1: broadcasts back against the K-major signal. */
const rowSum = (ctx: RuleContext, signal: string, axis: number): string =>
  ctx.emit.op('ReduceSum', [signal, ctx.emit.int64s([axis])], { keepdims: 1 }, 'rowSum');

export const softmax: OpRules = {
  gradient(ctx) {
    const { axis, s } = axisOf(ctx);
    const y = ctx.node.outputs[0]!;
    const R = ctx.signals[0]!;
    const centred = ctx.emit.op('Sub', [R, rowSum(ctx, mulFact(ctx, R, s, y, s), axis)]);
    return [mulFact(ctx, centred, s, y, s)];
  },
  lrp(ctx) {
    const { axis, s } = axisOf(ctx);
    const { emit } = ctx;
    const R = ctx.signals[0]!;
    const rows = emit.op('Expand', [rowSum(ctx, R, axis), emit.int64s([ctx.k * s[0]!, ...s.slice(1)])]);
    const back = emit.op('Sub', [R, mulFact(ctx, rows, s, ctx.node.outputs[0]!, s)], {}, 'softmaxRelevance');
    const x = ctx.node.inputs[0]!;
    return [relevanceProduct(ctx, x, back, ctx.shape(x))];
  },
};

export const logSoftmax: OpRules = {
  gradient(ctx) {
    const { axis, s } = axisOf(ctx);
    const { emit } = ctx;
    const p = emit.op('Exp', [ctx.node.outputs[0]!], {}, 'softmaxOfLog');
    const R = ctx.signals[0]!;
    const rows = emit.op('Expand', [rowSum(ctx, R, axis), emit.int64s([ctx.k * s[0]!, ...s.slice(1)])]);
    return [emit.op('Sub', [R, mulFact(ctx, rows, s, p, s)])];
  },
};
