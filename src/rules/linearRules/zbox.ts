/**
 * zB (bounded input l ≤ x ≤ h, per channel): z = Wx + b − (W⁺l + b⁺) − (W⁻h + b⁻);
 * R = x ⊙ Wᵀs − l ⊙ W⁺ᵀs − h ⊙ W⁻ᵀs.
 */
import { divideByStabilized } from '../relevance.js';
import type { LinearRule } from '../types.js';
import { signParts } from '../weights.js';
import { perChannel, type LinearRuleImpl } from './layer.js';

export const zbox: LinearRuleImpl<Extract<LinearRule, { rule: 'zbox' }>> = (l, rule) => {
  const { ctx, ops, x, w, b, R, ownOutput, sub, times } = l;
  const { pos: wp, neg: wn } = signParts(w);
  const lo = perChannel(ctx, rule.low, 'low');
  const hi = perChannel(ctx, rule.high, 'high');
  // Bound terms are constant: onnxruntime folds them once per session.
  const zx = ownOutput ?? ops.forward(x, w, b, 'box');
  const zl = ops.forward(lo, wp, b && signParts(b).pos, 'boxLow');
  const zh = ops.forward(hi, wn, b && signParts(b).neg, 'boxHigh');
  const z = sub(sub(zx, zl), zh);
  const s = divideByStabilized(ctx, R, z);
  const rx = times(x, ops.backward(s, w, 'box'));
  const rl = times(lo, ops.backward(s, wp, 'boxLow'));
  const rh = times(hi, ops.backward(s, wn, 'boxHigh'));
  return sub(sub(rx, rl), rh);
};
