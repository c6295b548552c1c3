/**
 * The ReLU-like ops (Relu, LeakyRelu, PRelu, Clip with min 0 such as ReLU6) are where the three
 * gradient-family methods differ (Nie et al., Eq. 1–2), with R the incoming signal and σ' the op's
 * local derivative at the forward input:
 *   gradient:  R ⊙ σ'          (forward mask)
 *   deconvnet: max(0, R)        (backward mask only; the forward pass is ignored)
 *   guided:    max(0, R) ⊙ σ'   (both masks)
 * For LeakyRelu/PRelu σ' is the slope on the negative side, for ReLU6 it is 1[0 < x < 6].
 */
import { gateFact, mulFact } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/**
 * σ' as a forward tensor of the output's shape: either a boolean condition (σ' ∈ {0, 1}, applied
 * with one Where) or a float derivative (applied with a Mul).
 */
export type LocalDerivative = { condition: (ctx: RuleContext) => string } | { derivative: (ctx: RuleContext) => string };

/** Builds the three variants of a ReLU-like op from its local derivative. */
export function rectifierRules(local: LocalDerivative): OpRules {
  const gate = (ctx: RuleContext, signal: string): string => {
    const s = ctx.shape(ctx.node.outputs[0]!);
    return 'condition' in local ? gateFact(ctx, signal, s, local.condition(ctx), s) : mulFact(ctx, signal, s, local.derivative(ctx), s);
  };
  const positive = (ctx: RuleContext): string => ctx.emit.op('Relu', [ctx.signals[0]!], {}, 'Rectify');
  return {
    gradient: (ctx) => [gate(ctx, ctx.signals[0]!)],
    deconvnet: (ctx) => [positive(ctx)],
    guided: (ctx) => [gate(ctx, positive(ctx))],
  };
}
