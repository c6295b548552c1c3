/** Mul and Div by a constant (normalization layers, scaling): the signal is scaled the same way. */
import { mulFact, refuse, unbroadcast } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function scaleByConstant(ctx: RuleContext, op: 'Mul' | 'Div'): (string | undefined)[] {
  const { node } = ctx;
  if (ctx.needs[0] && ctx.needs[1]) {
    refuse(ctx, 'multiplying two input-dependent tensors (attention or squeeze-excitation gating) is not supported');
  }
  if (op === 'Div' && ctx.needs[1]) refuse(ctx, 'dividing by an input-dependent tensor is not supported');
  const live = ctx.needs[0] ? 0 : 1;
  const factor = node.inputs[1 - live]!;
  const out = ctx.shape(node.outputs[0]!);
  const scaled = mulFact(ctx, ctx.signals[0]!, out, factor, ctx.shape(factor), op);
  return node.inputs.map((name, i) => (i === live ? unbroadcast(ctx, scaled, out, ctx.shape(name)) : undefined));
}

export const mul: OpRules = { gradient: (ctx) => scaleByConstant(ctx, 'Mul') };
export const div: OpRules = { gradient: (ctx) => scaleByConstant(ctx, 'Div') };
