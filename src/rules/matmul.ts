/**
 * MatMul. With a constant right operand (a weight): dA = R · Bᵀ, Bᵀ precomputed once per compile,
 * and LRP's linear rules. Between two input-dependent tensors (attention: QKᵀ and A·V) the product
 * rule, dA = R·Bᵀ and dB = Aᵀ·R (summed over broadcast batch axes), and for LRP AttnLRP's uniform
 * rule: each factor receives half of the ε-rule relevance computed with the other held fixed,
 * R_A = ½ A ⊙ (s·Bᵀ), R_B = ½ B ⊙ (Aᵀ·s), s = R / stab(y).
 */
import { broadcastShapes } from '../ir/fold.js';
import { linearLrp } from './linearRules/index.js';
import { divideByStabilized, relevanceProduct } from './relevance.js';
import { refuse, unbroadcast, unviewK, viewK } from './signal.js';
import type { OpRules, RuleContext } from './types.js';
import { transposeMatrix } from './weights.js';

const swapLast = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

/**
 * MatMul of a K-major signal (forward shape `s`) with a forward tensor, on the given side; the
 * result is K-major with the broadcast forward shape `outShape`.
 */
function matmulWithSignal(ctx: RuleContext, signal: string, s: readonly number[], fact: string, factShape: readonly number[], signalLeft: boolean, outShape: readonly number[]): string {
  const { emit } = ctx;
  const direct = ctx.k === 1 || factShape.length < s.length || factShape[0] === 1;
  if (direct) return emit.op('MatMul', signalLeft ? [signal, fact] : [fact, signal]);
  const v = viewK(ctx, signal, s);
  return unviewK(ctx, emit.op('MatMul', signalLeft ? [v, fact] : [fact, v]), outShape);
}

/** dA = R·Bᵀ and dB = Aᵀ·R for a K-major signal R of the output. */
function bilinearBackward(ctx: RuleContext, R: string): [string | undefined, string | undefined] {
  const { node, emit } = ctx;
  const [a, b] = node.inputs as [string, string];
  const as = ctx.shape(a), bs = ctx.shape(b), ys = ctx.shape(node.outputs[0]!);
  if (as.length < 2 || bs.length < 2) refuse(ctx, 'a product of two input-dependent tensors needs both of rank ≥ 2');
  broadcastShapes(as.slice(0, -2), bs.slice(0, -2));
  const batch = ys.slice(0, -2);
  const da = [...batch, as[as.length - 2]!, as[as.length - 1]!];
  const db = [...batch, bs[bs.length - 2]!, bs[bs.length - 1]!];
  let ga: string | undefined;
  let gb: string | undefined;
  if (ctx.needs[0]) {
    const bt = emit.op('Transpose', [b], { perm: swapLast(bs.length) }, 'rightT');
    ga = unbroadcast(ctx, matmulWithSignal(ctx, R, ys, bt, [...bs.slice(0, -2), bs[bs.length - 1]!, bs[bs.length - 2]!], true, da), da, as);
  }
  if (ctx.needs[1]) {
    const at = emit.op('Transpose', [a], { perm: swapLast(as.length) }, 'leftT');
    gb = unbroadcast(ctx, matmulWithSignal(ctx, R, ys, at, [...as.slice(0, -2), as[as.length - 1]!, as[as.length - 2]!], false, db), db, bs);
  }
  return [ga, gb];
}

function constantRightGradient(ctx: RuleContext): (string | undefined)[] {
  const { node, emit } = ctx;
  const b = ctx.constant(node.inputs[1]!);
  if (!b || b.dims.length !== 2) return bilinearBackward(ctx, ctx.signals[0]!);
  const bt = emit.constant(transposeMatrix(b), `${node.name}/wT`);
  return [emit.op('MatMul', [ctx.signals[0]!, bt])];
}

export const matmul: OpRules = {
  lrp(ctx) {
    if (!ctx.needs[1]) return linearLrp(ctx);
    const s = divideByStabilized(ctx, ctx.signals[0]!, ctx.node.outputs[0]!);
    const [ga, gb] = bilinearBackward(ctx, s);
    // With a constant left factor the product is linear in the right one: the whole ε-rule relevance.
    const share = ctx.needs[0] ? 0.5 : 1;
    const half = (x: string, g: string | undefined): string | undefined =>
      g && (share === 1 ? relevanceProduct(ctx, x, g, ctx.shape(x)) : ctx.emit.op('Mul', [relevanceProduct(ctx, x, g, ctx.shape(x)), ctx.emit.scalar(share)], {}, 'uniformHalf'));
    return [half(ctx.node.inputs[0]!, ga), half(ctx.node.inputs[1]!, gb)];
  },
  gradient: (ctx) => (ctx.needs[1] ? bilinearBackward(ctx, ctx.signals[0]!) : constantRightGradient(ctx)),
};
