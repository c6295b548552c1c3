/** MatMul with a constant right operand: dA = R · Bᵀ (Bᵀ precomputed once per compile). */
import { asFloat32 } from '../ir/tensor.js';
import { lrpRule } from './conv.js';
import { linearRelevance } from './lrp.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';

export const matmul: OpRules = {
  lrp: (ctx) => [linearRelevance(ctx, lrpRule(ctx))],
  gradient(ctx) {
    const { node, emit } = ctx;
    if (ctx.needs[1]) refuse(ctx, 'only the left MatMul operand may depend on the model input (the right one must be a constant weight)');
    const b = ctx.constant(node.inputs[1]!);
    if (!b || b.dims.length !== 2) refuse(ctx, 'the right operand must be a constant 2-D weight');
    const [k, n] = b.dims as [number, number];
    const src = asFloat32(b);
    const t = new Float32Array(src.length);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = src[i * n + j]!;
    const bt = emit.constant({ dtype: 'float32', dims: [n, k], data: t }, `${node.name}/wT`);
    return [emit.op('MatMul', [ctx.signals[0]!, bt])];
  },
};
