/**
 * Layer-wise relevance propagation at linear layers (Conv, Gemm, MatMul) as a modified gradient,
 * as Zennit implements it: with modified inputs x' and weights W', z = W'x' (+ b'), s = R / stab(z),
 * and the relevance of the inputs is x' ⊙ W'ᵀs, stab(z) = z + ε·sign(z) with sign(0) = +1. Every
 * rule is a sum of such terms (see ../shared/papers/METHODS.md); each has its own file here, and
 * its formula at the top. Modified weights are computed once per compile and stored as
 * initializers.
 *
 * A new rule: its variant in the LinearRule union (../types.ts), a file here, and one line in
 * LINEAR_RULES.
 */
import { refuse } from '../signal.js';
import type { BackwardRule, LinearRule, RuleContext } from '../types.js';
import { alphabeta } from './alphabeta.js';
import { epsilon } from './epsilon.js';
import { excitation } from './excitation.js';
import { flat } from './flat.js';
import { gamma } from './gamma.js';
import { linearLayer, type LinearRuleImpl } from './layer.js';
import { wsquare } from './wsquare.js';
import { zbox } from './zbox.js';
import { zplus } from './zplus.js';

/** The LRP rules for linear layers, by name. */
export const LINEAR_RULES: { readonly [K in LinearRule['rule']]: LinearRuleImpl<Extract<LinearRule, { rule: K }>> } = {
  epsilon,
  zplus,
  alphabeta,
  zbox,
  gamma,
  wsquare,
  flat,
  excitation,
};

/** The relevance of a linear layer's input under `rule`. */
export function linearRelevance(ctx: RuleContext, rule: LinearRule): string {
  const impl = LINEAR_RULES[rule.rule] as LinearRuleImpl;
  return impl(linearLayer(ctx, rule), rule);
}

/** The LRP rule the method chose for this linear layer. */
function lrpRule(ctx: RuleContext): LinearRule {
  if (!ctx.linear) refuse(ctx, 'the method chose LRP here but gave no linear rule');
  return ctx.linear;
}

/** The `lrp` backward rule of Conv, Gemm and MatMul: the rule the method chose for the layer. */
export const linearLrp: BackwardRule = (ctx) => [linearRelevance(ctx, lrpRule(ctx))];
