/**
 * Generalized γ (Andéol et al. 2021; Zennit ≥ 0.5; ../shared/papers/METHODS.md): the contributions
 * that agree with the sign of the output z = Wx + b are enhanced. Where z > 0: x⁺ with W + γW⁺ and
 * x⁻ with W + γW⁻, bias b + γb⁺; where z < 0 the other way round, bias b + γb⁻; where z = 0 no
 * relevance passes. With x ≥ 0 and z > 0 it is the original γ rule, which divided by sums near zero
 * where a negative output still receives relevance (through a residual sum).
 * Design history: docs/design/modern-blocks.md
 */
import type { Tensor } from '../../ir/tensor.js';
import { divideByStabilized, nonNegative } from '../relevance.js';
import { mulFact } from '../signal.js';
import type { LinearRule } from '../types.js';
import { mapWeights } from '../weights.js';
import { sumOf, type LinearRuleImpl } from './layer.js';

export const gamma: LinearRuleImpl<Extract<LinearRule, { rule: 'gamma' }>> = (l, rule) => {
  const { ctx, ops, x, w, b, R } = l;
  const { emit } = ctx;
  const g = rule.gamma;
  const up = mapWeights(w, (v) => v + g * Math.max(v, 0));
  const down = mapWeights(w, (v) => v + g * Math.min(v, 0));
  const onlyPositiveInput = nonNegative(ctx.graph, x);
  const xp = onlyPositiveInput ? x : emit.op('Relu', [x], {}, 'xPos');
  const xn = onlyPositiveInput ? undefined : emit.op('Min', [x, emit.scalar(0)], {}, 'xNeg');
  const z = l.ownOutput ?? ops.forward(x, w, b, 'gammaZ');
  const zs = ctx.shape(ctx.node.outputs[0]!);
  /** One sign of z: its masked R / stab(z'), and the weights its x⁺ and x⁻ parts use. */
  const side = (sign: 'Greater' | 'Less', wp: Tensor, wn: Tensor, bias: Tensor | undefined, hint: string) => {
    const denominator = sumOf(ctx, [ops.forward(xp, wp, bias, `${hint}P`), xn && ops.forward(xn, wn, undefined, `${hint}N`)], `${hint}Z`);
    const mask = emit.op('Cast', [emit.op(sign, [z, emit.scalar(0)])], { to: 1 }, `${hint}Mask`);
    return { s: mulFact(ctx, divideByStabilized(ctx, R, denominator), zs, mask, zs), wp, wn, hint };
  };
  const sides = [
    side('Greater', up, down, b && mapWeights(b, (v) => v + g * Math.max(v, 0)), 'gammaUp'),
    side('Less', down, up, b && mapWeights(b, (v) => v + g * Math.min(v, 0)), 'gammaDown'),
  ];
  const terms = [l.times(xp, emit.op('Add', sides.map((q) => ops.backward(q.s, q.wp, `${q.hint}P`)), {}, 'gammaPos'))];
  if (xn) terms.push(l.times(xn, emit.op('Add', sides.map((q) => ops.backward(q.s, q.wn, `${q.hint}N`)), {}, 'gammaNeg')));
  return sumOf(ctx, terms, 'gammaR');
};
