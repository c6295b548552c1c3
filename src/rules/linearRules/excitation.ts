/**
 * Excitation Backprop (Zhang et al.): z = W⁺x⁺, R = x⁺ ⊙ W⁺ᵀ(R / z), the marginal winning
 * probabilities. The bias is never used.
 */
import { divideByStabilized, nonNegative } from '../relevance.js';
import type { LinearRule } from '../types.js';
import { signParts } from '../weights.js';
import { shiftedBias, type LinearRuleImpl } from './layer.js';

export const excitation: LinearRuleImpl<Extract<LinearRule, { rule: 'excitation' }>> = (l) => {
  const { ctx, ops, x, w, R } = l;
  const { node, emit } = ctx;
  const wp = signParts(w).pos;
  const xp = nonNegative(ctx.graph, x) ? x : emit.op('Relu', [x], {}, 'xPos');
  // z = W⁺x⁺ ≥ 0: the stabilizer goes into a bias (see shiftedBias).
  const s = node.op === 'MatMul'
    ? divideByStabilized(ctx, R, ops.forward(xp, wp, undefined, 'ebp'))
    : divideByStabilized(ctx, R, ops.forward(xp, wp, shiftedBias(ctx, undefined, ctx.stabilizer), 'ebp'), undefined, true);
  return l.times(xp, ops.backward(s, wp, 'ebp'));
};
