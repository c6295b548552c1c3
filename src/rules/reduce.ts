/**
 * Reductions over any axes (ReduceMean, ReduceSum, ReduceSumSquare, ReduceL2, ReduceMax, ReduceMin),
 * keepdims or not. The gradient broadcasts the signal back over the reduced axes, times the local
 * derivative: 1/n (mean), 1 (sum), 2x (sum of squares), x/y (L2), and for max/min the winners,
 * sharing the signal evenly among tied winners (PyTorch's amax/amin backward).
 * LRP: sums and means pass relevance in proportion to each input's contribution (the z-rule, as at
 * average pooling); max/min send it to the winners; L2 in proportion to x² (its share of y²).
 */
import { attrInt, attrInts, type Node } from '../ir/graph.js';
import { sizeOf, toNumbers } from '../ir/tensor.js';
import { proportionalThrough, stabilize } from './relevance.js';
import { kShape, mulFact, refuse, unviewK } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** The reduced axes (normalized, sorted) of a reduction node on an input of rank `rank`. */
export function reducedAxes(ctx: RuleContext, node: Node, rank: number): number[] {
  let axes: number[] | undefined;
  if (node.inputs[1]) {
    const t = ctx.constant(node.inputs[1]);
    if (!t) refuse(ctx, 'the axes must be a constant');
    axes = toNumbers(t);
  } else axes = attrInts(node, 'axes');
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

/** The output shape with the reduced axes kept as 1 (keepdims = 1). */
function keptShape(xs: readonly number[], axes: readonly number[]): number[] {
  return xs.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The incoming signal, broadcast back to the input's shape (K-major). */
function spread(ctx: RuleContext, signal: string, xs: readonly number[], axes: readonly number[]): string {
  const { emit } = ctx;
  const kept = keptShape(xs, axes);
  if (!axes.includes(0)) {
    // Batch axis kept: [K·s0, …kept] expands to [K·s0, …xs] directly.
    return emit.op('Expand', [emit.reshape(signal, kShape(ctx, kept)), emit.int64s(kShape(ctx, xs))], {}, 'unreduce');
  }
  const v = emit.reshape(signal, [ctx.k, ...kept]);
  return unviewK(ctx, emit.op('Expand', [v, emit.int64s([ctx.k, ...xs])], {}, 'unreduce'), xs);
}

function geometry(ctx: RuleContext): { x: string; xs: number[]; axes: number[]; count: number } {
  const x = ctx.node.inputs[0]!;
  const xs = ctx.shape(x);
  const axes = reducedAxes(ctx, ctx.node, xs.length);
  return { x, xs, axes, count: sizeOf(axes.map((a) => xs[a]!)) };
}

/** The forward output viewed with keepdims, so that it broadcasts against the input. */
function keptOutput(ctx: RuleContext, xs: readonly number[], axes: readonly number[]): string {
  const y = ctx.node.outputs[0]!;
  return attrInt(ctx.node, 'keepdims', 1) === 1 ? y : ctx.emit.reshape(y, keptShape(xs, axes), 'keptOutput');
}

function sumGradient(scale: (count: number) => number) {
  return (ctx: RuleContext): (string | undefined)[] => {
    const { xs, axes, count } = geometry(ctx);
    const s = scale(count);
    const signal = s === 1 ? ctx.signals[0]! : ctx.emit.op('Mul', [ctx.signals[0]!, ctx.emit.scalar(s)]);
    return [spread(ctx, signal, xs, axes), ...ctx.node.inputs.slice(1).map(() => undefined)];
  };
}

const meanGradient = sumGradient((n) => 1 / n);
const plainSumGradient = sumGradient(() => 1);

export const reduceMean: OpRules = { gradient: meanGradient, lrp: (ctx) => proportionalThrough(ctx, meanGradient) };
export const reduceSum: OpRules = { gradient: plainSumGradient, lrp: (ctx) => proportionalThrough(ctx, plainSumGradient) };

/** Σx²: the signal times 2x; LRP shares relevance in proportion to x² (each term's part of the sum). */
function sumSquareGradient(ctx: RuleContext, factor: number): string {
  const { x, xs, axes } = geometry(ctx);
  const back = spread(ctx, ctx.signals[0]!, xs, axes);
  const local = factor === 1 ? x : ctx.emit.op('Mul', [x, ctx.emit.scalar(factor)]);
  return mulFact(ctx, back, xs, local, xs);
}

function squareShare(ctx: RuleContext, denominator: string): string {
  const { x, xs, axes } = geometry(ctx);
  const { emit } = ctx;
  const share = emit.op('Div', [emit.op('Mul', [x, x]), stabilize(ctx, denominator)], {}, 'squareShare');
  return mulFact(ctx, spread(ctx, ctx.signals[0]!, xs, axes), xs, share, xs);
}

export const reduceSumSquare: OpRules = {
  gradient: (ctx) => [sumSquareGradient(ctx, 2)],
  lrp: (ctx) => {
    const { xs, axes } = geometry(ctx);
    return [squareShare(ctx, keptOutput(ctx, xs, axes))];
  },
};

/** y = √Σx²: dy/dx = x / y (0 where y = 0, as PyTorch's norm backward). */
export const reduceL2: OpRules = {
  gradient(ctx) {
    const { x, xs, axes } = geometry(ctx);
    const { emit } = ctx;
    const y = keptOutput(ctx, xs, axes);
    const zero = emit.op('Equal', [y, emit.scalar(0)]);
    const local = emit.op('Where', [zero, emit.scalar(0), emit.op('Div', [x, y])], {}, 'l2Deriv');
    return [mulFact(ctx, spread(ctx, ctx.signals[0]!, xs, axes), xs, local, xs)];
  },
  lrp: (ctx) => {
    const { xs, axes } = geometry(ctx);
    const y = keptOutput(ctx, xs, axes);
    return [squareShare(ctx, ctx.emit.op('Mul', [y, y]))];
  },
};

/** The winners of a max/min reduction, each weighted 1/(number of tied winners). */
function winnerShare(ctx: RuleContext): string {
  const { x, xs, axes } = geometry(ctx);
  const { emit } = ctx;
  const hits = emit.op('Cast', [emit.op('Equal', [x, keptOutput(ctx, xs, axes)])], { to: 1 }, 'winners');
  const ties = emit.op('ReduceSum', [hits, emit.int64s(axes)], { keepdims: 1 }, 'ties');
  return emit.op('Div', [hits, ties], {}, 'winnerShare');
}

function winnerGradient(ctx: RuleContext): (string | undefined)[] {
  const { xs, axes } = geometry(ctx);
  return [mulFact(ctx, spread(ctx, ctx.signals[0]!, xs, axes), xs, winnerShare(ctx), xs)];
}

export const reduceMax: OpRules = { gradient: winnerGradient };
export const reduceMin: OpRules = { gradient: winnerGradient };
