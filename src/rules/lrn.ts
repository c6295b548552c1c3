/**
 * LRN (local response normalization across channels, old zoo models such as AlexNet's and
 * GoogLeNet's first exports): y_i = x_i · d_i^(−β), d_i = bias + α/size · Σ_{k ∈ win(i)} x_k².
 * Gradient: dx_i = R_i · d_i^(−β) − (2αβ/size) · x_i · Σ_{j: i ∈ win(j)} R_j x_j d_j^(−β−1).
 * The channel-window sums are 1×1 convolutions with a constant banded [C, C] matrix.
 * LRP passes relevance unchanged (the divisor is a constant of the forward pass, as at LayerNorm).
 */
import { attrFloat, attrInt } from '../ir/graph.js';
import { float32 } from '../ir/tensor.js';
import { passRelevance } from './relevance.js';
import { mulFact, refuse } from './signal.js';
import type { OpRules } from './types.js';

export const lrn: OpRules = {
  lrp: passRelevance,
  gradient(ctx) {
    const { node, emit } = ctx;
    const x = node.inputs[0]!;
    const s = ctx.shape(x);
    if (s.length !== 4) refuse(ctx, 'LRN on inputs other than [N, C, H, W] is not supported');
    const c = s[1]!;
    const size = attrInt(node, 'size', 1);
    const alpha = attrFloat(node, 'alpha', 1e-4);
    const beta = attrFloat(node, 'beta', 0.75);
    const bias = attrFloat(node, 'bias', 1);
    // win(i) = [i − ⌊(size−1)/2⌋, i + ⌈(size−1)/2⌉] (ONNX), as a [C_out, C_in, 1, 1] band.
    const lo = Math.floor((size - 1) / 2);
    const hi = Math.ceil((size - 1) / 2);
    const band = new Float32Array(c * c);
    const bandT = new Float32Array(c * c);
    for (let i = 0; i < c; i++) for (let k = Math.max(0, i - lo); k <= Math.min(c - 1, i + hi); k++) {
      band[i * c + k] = 1;
      bandT[k * c + i] = 1;
    }
    const windowSum = (t: string, m: Float32Array, hint: string): string => emit.op('Conv', [t, emit.constant(float32([c, c, 1, 1], m), `${node.name}/${hint}`)], {}, hint);
    const d = emit.op('Add', [emit.op('Mul', [windowSum(emit.op('Mul', [x, x]), band, 'lrnBand'), emit.scalar(alpha / size)]), emit.scalar(bias)], {}, 'lrnDivisor');
    const dPow = emit.op('Pow', [d, emit.scalar(-beta)], {}, 'lrnScale');
    const R = ctx.signals[0]!;
    const direct = mulFact(ctx, R, s, dPow, s);
    // Σ_j over the windows containing i of R_j · x_j · d_j^(−β−1): the transposed band, on the K-major signal.
    const weighted = mulFact(ctx, R, s, emit.op('Div', [emit.op('Mul', [x, dPow]), d]), s);
    const spread = windowSum(weighted, bandT, 'lrnBandT');
    const cross = mulFact(ctx, emit.op('Mul', [spread, emit.scalar((2 * alpha * beta) / size)]), s, x, s);
    return [emit.op('Sub', [direct, cross], {}, 'lrnGrad')];
  },
};
