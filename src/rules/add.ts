/**
 * Add, Sub and Sum pass the signal to every input-dependent operand unchanged (negated for the
 * subtrahend), summed over broadcast axes. Residual connections are Adds of two such operands;
 * the compiler sums the signals where the branches meet.
 */
import { divideByStabilized } from './relevance.js';
import { mulFact, unbroadcast } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function passToOperands(ctx: RuleContext, negateFrom: number): (string | undefined)[] {
  const { node } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  return node.inputs.map((name, i) => {
    if (!ctx.needs[i]) return undefined;
    const s = unbroadcast(ctx, ctx.signals[0]!, out, ctx.shape(name));
    return i >= negateFrom ? ctx.emit.op('Neg', [s]) : s;
  });
}

/**
 * LRP at a sum (residual connections, bias adds): each operand gets relevance in proportion to its
 * contribution, R_i = x_i ⊙ R / stab(y) (Zennit's Norm rule); a constant operand absorbs its share.
 */
function proportional(ctx: RuleContext, negateFrom: number): (string | undefined)[] {
  const { node } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  const s = divideByStabilized(ctx, ctx.signals[0]!, node.outputs[0]!);
  return node.inputs.map((name, i) => {
    if (!ctx.needs[i]) return undefined;
    const shape = ctx.shape(name);
    const r = unbroadcast(ctx, mulFact(ctx, s, out, name, shape), out, shape);
    return i >= negateFrom ? ctx.emit.op('Neg', [r]) : r;
  });
}

export const add: OpRules = { gradient: (ctx) => passToOperands(ctx, Infinity), lrp: (ctx) => proportional(ctx, Infinity) };
export const sum: OpRules = add;
/** A difference a − b is the sum of a and −b: LRP shares relevance as at Add (centring in LayerNorm). */
export const sub: OpRules = { gradient: (ctx) => passToOperands(ctx, 1), lrp: (ctx) => proportional(ctx, 1) };
