/**
 * A BatchNormalization that could not be folded into a preceding linear layer is a per-channel
 * affine map at inference: the signal is scaled by γ/√(var + ε).
 */
import { attrFloat } from '../ir/graph.js';
import { asFloat32, float32 } from '../ir/tensor.js';
import { passRelevance } from './relevance.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';

export const batchNorm: OpRules = {
  /** LRP: an unfolded normalization passes relevance (Zennit maps BatchNorm to Pass). */
  lrp: passRelevance,
  gradient(ctx) {
    const { node, emit } = ctx;
    const params = node.inputs.slice(1).map((n) => ctx.constant(n));
    if (params.some((p) => !p) || ctx.needs.slice(1).some(Boolean)) refuse(ctx, 'scale, bias, mean and variance must be constants');
    const gamma = asFloat32(params[0]!);
    const variance = asFloat32(params[3]!);
    const eps = attrFloat(node, 'epsilon', 1e-5);
    const xs = ctx.shape(node.inputs[0]!);
    const scale = Array.from(gamma, (g, i) => g / Math.sqrt(variance[i]! + eps));
    const s = emit.constant(float32([gamma.length, ...xs.slice(2).map(() => 1)], scale), `${node.name}/scale`);
    return [emit.op('Mul', [ctx.signals[0]!, s], {}, 'unBatchNorm')];
  },
};
