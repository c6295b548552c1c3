/**
 * The ReLU-like ops (Relu, LeakyRelu, PRelu, Clip with min 0 such as ReLU6) are where the three
 * gradient-family methods differ (Nie et al., Eq. 1–2), with R the incoming signal and σ' the op's
 * local derivative at the forward input:
 *   gradient:  R ⊙ σ'          (forward mask)
 *   deconvnet: max(0, R)        (backward mask only; the forward pass is ignored)
 *   guided:    max(0, R) ⊙ σ'   (both masks)
 * For LeakyRelu/PRelu σ' is the slope on the negative side, for ReLU6 it is 1[0 < x < 6].
 */
import { mulFact } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** Builds the three variants from a function that emits σ' (a forward tensor of the output's shape). */
export function rectifierRules(localDerivative: (ctx: RuleContext) => string): OpRules {
  const gate = (ctx: RuleContext, signal: string): string => {
    const s = ctx.shape(ctx.node.outputs[0]!);
    return mulFact(ctx, signal, s, localDerivative(ctx), s);
  };
  const positive = (ctx: RuleContext): string => ctx.emit.op('Relu', [ctx.signals[0]!], {}, 'Rectify');
  return {
    gradient: (ctx) => [gate(ctx, ctx.signals[0]!)],
    deconvnet: (ctx) => [positive(ctx)],
    guided: (ctx) => [gate(ctx, positive(ctx))],
  };
}
