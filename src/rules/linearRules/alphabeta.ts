/**
 * αβ: α · (z = W⁺x⁺ + b⁺ + W⁻x⁻, R = x⁺ ⊙ W⁺ᵀs + x⁻ ⊙ W⁻ᵀs)
 *   − β · (z = W⁻x⁺ + b⁻ + W⁺x⁻, R = x⁺ ⊙ W⁻ᵀs + x⁻ ⊙ W⁺ᵀs), with s = R / stab(z) in each part.
 * When the layer input is non-negative by construction the x⁻ terms vanish and are not emitted.
 */
import type { Tensor } from '../../ir/tensor.js';
import { divideByStabilized, nonNegative } from '../relevance.js';
import type { LinearRule } from '../types.js';
import { signParts } from '../weights.js';
import { shiftedBias, sumOf, type LinearLayer, type LinearRuleImpl } from './layer.js';

/** α · (the positive part) − β · (the negative part); z⁺ is α = 1, β = 0. */
export function alphaBetaRelevance(l: LinearLayer, alpha: number, beta: number): string {
  const { ctx, ops, x, w, b, R } = l;
  const { node, emit } = ctx;
  const { pos: wp, neg: wn } = signParts(w);
  const onlyPositiveInput = nonNegative(ctx.graph, x);
  const xp = onlyPositiveInput ? x : emit.op('Relu', [x], {}, 'xPos');
  const xn = onlyPositiveInput ? undefined : emit.op('Min', [x, emit.scalar(0)], {}, 'xNeg');
  // One part: inputs (x⁺ with W_a, x⁻ with W_b), bias b_a on the x⁺ term only. With x ≥ 0 the
  // part has one sign (that of W_a and b_a): the stabilizer goes into the bias.
  const signDefinite = !xn && node.op !== 'MatMul';
  const part = (wa: Tensor, wb: Tensor, ba: Tensor | undefined, hint: string): string => {
    const s = signDefinite
      ? divideByStabilized(ctx, R, ops.forward(xp, wa, shiftedBias(ctx, ba, hint === 'pos' ? ctx.stabilizer : -ctx.stabilizer), `${hint}a`), undefined, true)
      : divideByStabilized(ctx, R, sumOf(ctx, [ops.forward(xp, wa, ba, `${hint}a`), xn && ops.forward(xn, wb, undefined, `${hint}b`)], `${hint}Z`));
    const terms = [l.times(xp, ops.backward(s, wa, `${hint}a`)), xn && l.times(xn, ops.backward(s, wb, `${hint}b`))];
    return sumOf(ctx, terms, `${hint}R`);
  };
  const pos = part(wp, wn, b && signParts(b).pos, 'pos');
  if (beta === 0) return alpha === 1 ? pos : emit.op('Mul', [pos, emit.scalar(alpha)]);
  const neg = part(wn, wp, b && signParts(b).neg, 'neg');
  return l.sub(emit.op('Mul', [pos, emit.scalar(alpha)]), emit.op('Mul', [neg, emit.scalar(beta)]));
}

export const alphabeta: LinearRuleImpl<Extract<LinearRule, { rule: 'alphabeta' }>> = (l, rule) => alphaBetaRelevance(l, rule.alpha, rule.beta);
