/**
 * Mul and Div. By a constant (normalization, scaling) the signal is scaled the same way; between
 * two input-dependent tensors (squeeze-excitation gates) the product rule applies:
 * d(a·b) = R·b, R·a and d(a/b) = R/b, −R·(a/b)/b, each summed over broadcast axes.
 */
import { mulFact, refuse, unbroadcast } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function product(ctx: RuleContext): (string | undefined)[] {
  const { node } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  return node.inputs.map((name, i) => {
    if (!ctx.needs[i]) return undefined;
    const other = node.inputs[1 - i]!;
    return unbroadcast(ctx, mulFact(ctx, ctx.signals[0]!, out, other, ctx.shape(other)), out, ctx.shape(name));
  });
}

function quotient(ctx: RuleContext): (string | undefined)[] {
  const { node, emit } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  const [a, b] = node.inputs as [string, string];
  const bShape = ctx.shape(b);
  const da = ctx.needs[0] ? unbroadcast(ctx, mulFact(ctx, ctx.signals[0]!, out, b, bShape, 'Div'), out, ctx.shape(a)) : undefined;
  let db: string | undefined;
  if (ctx.needs[1]) {
    const ry = mulFact(ctx, ctx.signals[0]!, out, node.outputs[0]!, out);
    db = unbroadcast(ctx, emit.op('Neg', [mulFact(ctx, ry, out, b, bShape, 'Div')]), out, bShape);
  }
  return [da, db];
}

/** LRP: scaling by a constant is a diagonal linear layer, whose z-rule passes relevance unchanged. */
function scaleRelevance(ctx: RuleContext): (string | undefined)[] {
  return ctx.needs[0] && ctx.needs[1] ? refuse(ctx, 'LRP through a product of two activations is not defined here') : ctx.node.inputs.map((_, i) => (ctx.needs[i] ? ctx.signals[0] : undefined));
}

export const mul: OpRules = { gradient: product, lrp: scaleRelevance };
export const div: OpRules = { gradient: quotient, lrp: (ctx) => (ctx.needs[1] ? refuse(ctx, 'LRP through a division by an activation is not defined here') : scaleRelevance(ctx)) };
