/** γ: W' = W + γW⁺, b' = b + γb⁺; R = x ⊙ W'ᵀ(R / stab(W'x + b')). */
import { divideByStabilized } from '../relevance.js';
import type { LinearRule } from '../types.js';
import { mapWeights } from '../weights.js';
import type { LinearRuleImpl } from './layer.js';

const positive = (v: number): number => (v > 0 ? v : 0);

export const gamma: LinearRuleImpl<Extract<LinearRule, { rule: 'gamma' }>> = (l, rule) => {
  const { ctx, ops, x, w, b, R } = l;
  const wg = mapWeights(w, (v) => v + rule.gamma * positive(v));
  const bg = b ? mapWeights(b, (v) => v + rule.gamma * positive(v)) : undefined;
  const s = divideByStabilized(ctx, R, ops.forward(x, wg, bg, 'gamma'));
  return l.times(x, ops.backward(s, wg, 'gamma'));
};
