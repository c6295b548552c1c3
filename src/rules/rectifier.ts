/**
 * The ReLU-like ops (Relu, LeakyRelu, PRelu, Clip with min 0 such as ReLU6) are where the three
 * gradient-family methods differ (Nie et al., Eq. 1–2), with R the incoming signal and σ' the op's
 * local derivative at the forward input:
 *   gradient:  R ⊙ σ'          (forward mask)
 *   deconvnet: max(0, R)        (backward mask only; the forward pass is ignored)
 *   guided:    max(0, R) ⊙ σ'   (both masks)
 * For LeakyRelu/PRelu σ' is the slope on the negative side, for ReLU6 it is 1[0 < x < 6].
 */
import { passRelevance } from './relevance.js';
import { gateBetween, positivePartBetween } from './masks.js';
import { mulFact } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/**
 * σ' either as a step 1[lo < y < hi] of the op's output y (Relu, ReLU6: applied by masks.ts) or
 * as a float derivative tensor of the output's shape (LeakyRelu, PRelu: applied with a Mul).
 */
export type LocalDerivative =
  | { between: (ctx: RuleContext) => { lo: number; hi: number | undefined } }
  | { derivative: (ctx: RuleContext) => string };

/** Builds the three variants of a ReLU-like op from its local derivative. */
export function rectifierRules(local: LocalDerivative): OpRules {
  const gate = (ctx: RuleContext, signal: string): string => {
    const s = ctx.shape(ctx.node.outputs[0]!);
    if ('derivative' in local) return mulFact(ctx, signal, s, local.derivative(ctx), s);
    const { lo, hi } = local.between(ctx);
    return gateBetween(ctx, signal, ctx.node.outputs[0]!, lo, hi);
  };
  const positive = (ctx: RuleContext): string => ctx.emit.op('Relu', [ctx.signals[0]!], {}, 'Rectify');
  const guided = (ctx: RuleContext): string => {
    if ('derivative' in local) return gate(ctx, positive(ctx));
    const { lo, hi } = local.between(ctx);
    return positivePartBetween(ctx, ctx.signals[0]!, ctx.node.outputs[0]!, lo, hi);
  };
  return {
    lrp: passRelevance,
    gradient: (ctx) => [gate(ctx, ctx.signals[0]!)],
    deconvnet: (ctx) => [positive(ctx)],
    guided: (ctx) => [guided(ctx)],
  };
}
