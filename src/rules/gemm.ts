/** Gemm (Y = α·A'B' + β·C): the signal goes to A through B'ᵀ, reusing B's initializer via transB. */
import { attrFloat, attrInt } from '../ir/graph.js';
import { linearLrp } from './linearRules/index.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';

export const gemm: OpRules = {
  lrp: linearLrp,
  gradient(ctx) {
    const { node, emit } = ctx;
    if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'only the first Gemm input may depend on the model input (B and C must be constants)');
    if (attrInt(node, 'transA', 0) !== 0) refuse(ctx, 'transA=1 on an input-dependent A is not supported');
    const transB = attrInt(node, 'transB', 0);
    const alpha = attrFloat(node, 'alpha', 1);
    // dA = α · R · B'ᵀ, and B'ᵀ is B itself when transB = 1.
    const out = emit.op('Gemm', [ctx.signals[0]!, node.inputs[1]!], { transB: transB ? 0 : 1, alpha: { type: 'float', value: alpha } }, 'GemmT');
    return [out];
  },
};
