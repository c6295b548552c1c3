/** Transpose: the inverse permutation, applied to the [K, …] view so the batch axis may move too. */
import { attrInts } from '../ir/graph.js';
import { unviewK, viewK } from './signal.js';
import type { OpRules } from './types.js';

export const transpose: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const ys = ctx.shape(node.outputs[0]!);
    const perm = attrInts(node, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    if (perm[0] === 0) return [emit.op('Transpose', [ctx.signals[0]!], { perm: inverse }, 'unTranspose')];
    const back = emit.op('Transpose', [viewK(ctx, ctx.signals[0]!, ys)], { perm: [0, ...inverse.map((p) => p + 1)] }, 'unTranspose');
    return [unviewK(ctx, back, xs)];
  },
};
