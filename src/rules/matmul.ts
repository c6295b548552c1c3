/** MatMul with a constant right operand: dA = R · Bᵀ (Bᵀ precomputed once per compile). */
import { linearLrp } from './linearRules/index.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';
import { transposeMatrix } from './weights.js';

export const matmul: OpRules = {
  lrp: linearLrp,
  gradient(ctx) {
    const { node, emit } = ctx;
    if (ctx.needs[1]) refuse(ctx, 'only the left MatMul operand may depend on the model input (the right one must be a constant weight)');
    const b = ctx.constant(node.inputs[1]!);
    if (!b || b.dims.length !== 2) refuse(ctx, 'the right operand must be a constant 2-D weight');
    const bt = emit.constant(transposeMatrix(b), `${node.name}/wT`);
    return [emit.op('MatMul', [ctx.signals[0]!, bt])];
  },
};
