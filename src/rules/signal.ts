/** Helpers shared by rules for handling K-major signals (see types.ts). */
import { UnsupportedOpError } from '../errors.js';
import { broadcastShapes } from '../ir/fold.js';
import type { RuleContext } from './types.js';

/** Signal shape of a forward tensor of shape `s`: [K·s0, s1, …]. */
export function kShape(ctx: RuleContext, s: readonly number[]): number[] {
  return s.length === 0 ? [ctx.k] : [ctx.k * s[0]!, ...s.slice(1)];
}

/** View a signal of forward shape `s` as [K, …s] (rank + 1), so that any axis of s can be addressed. */
export function viewK(ctx: RuleContext, signal: string, s: readonly number[]): string {
  return ctx.emit.reshape(signal, [ctx.k, ...s], 'viewK');
}

/** Back from [K, …s] to the K-major signal layout [K·s0, …]. */
export function unviewK(ctx: RuleContext, viewed: string, s: readonly number[]): string {
  return ctx.emit.reshape(viewed, kShape(ctx, s), 'unviewK');
}

/**
 * signal ⊙ fact, where the signal belongs to a forward tensor of shape `s` and `fact` is a forward
 * tensor broadcasting with `s` (a mask, a local derivative); the result has the broadcast shape. Reshapes only when needed: with one
 * seed or a batch of one, numpy broadcasting of [K·s0, …] against [s0, …] is already right.
 */
export function mulFact(ctx: RuleContext, signal: string, s: readonly number[], fact: string, factShape: readonly number[], op = 'Mul'): string {
  const direct = ctx.k === 1 || factShape.length < s.length || factShape[0] === 1;
  if (direct) return ctx.emit.op(op, [signal, fact]);
  return unviewK(ctx, ctx.emit.op(op, [viewK(ctx, signal, s), fact]), broadcastShapes(s, factShape));
}

/**
 * Where(condition, signal, 0): the signal where a forward boolean tensor (broadcasting with `s`)
 * holds, zero elsewhere. One pass, where a float mask would need a Cast and a Mul.
 */
export function gateFact(ctx: RuleContext, signal: string, s: readonly number[], condition: string, condShape: readonly number[]): string {
  const zero = ctx.emit.scalar(0);
  const direct = ctx.k === 1 || condShape.length < s.length || condShape[0] === 1;
  if (direct) return ctx.emit.op('Where', [condition, signal, zero], {}, 'gate');
  return unviewK(ctx, ctx.emit.op('Where', [condition, viewK(ctx, signal, s), zero], {}, 'gate'), broadcastShapes(s, condShape));
}

/**
 * Sum a signal of forward shape `outShape` down to a broadcast input of shape `inShape`
 * (the backward of numpy broadcasting).
 */
export function unbroadcast(ctx: RuleContext, signal: string, outShape: readonly number[], inShape: readonly number[]): string {
  if (outShape.length === inShape.length && outShape.every((d, i) => d === inShape[i])) return signal;
  const padded = [...new Array<number>(outShape.length - inShape.length).fill(1), ...inShape];
  const axes: number[] = [];
  padded.forEach((d, i) => {
    if (d === 1 && outShape[i] !== 1) axes.push(i + 1); // +1: axis 0 of the view is K
  });
  if (inShape.length === 0 || padded.length !== outShape.length) {
    throw new UnsupportedOpError(ctx.node.name, ctx.node.op, `cannot route a signal of shape [${outShape}] back to [${inShape}]`);
  }
  const v = viewK(ctx, signal, outShape);
  const reduced = axes.length ? ctx.emit.op('ReduceSum', [v, ctx.emit.int64s(axes)], { keepdims: 1 }) : v;
  return unviewK(ctx, reduced, inShape);
}

/** A zero signal for a forward tensor of shape `s`. */
export function zeros(ctx: RuleContext, s: readonly number[]): string {
  return ctx.emit.op('ConstantOfShape', [ctx.emit.int64s(kShape(ctx, s))], {}, 'zeros');
}

export function refuse(ctx: RuleContext, why: string): never {
  throw new UnsupportedOpError(ctx.node.name, ctx.node.op, why);
}
