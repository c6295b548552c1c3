/**
 * Rectifier gates: R ⊙ 1[lo < y < hi] for the forward output y of a ReLU-like op.
 *
 * 'ramp' lowering (onnxruntime's CPU provider), for rectifiers (lo = 0, y ≥ 0) of 4-D tensors:
 * each factor is a per-channel 1×1 convolution of y with a saturating activation, which
 * onnxruntime fuses and runs, like the gating Mul, in its blocked NCHWc layout; comparisons (bool
 * outputs) would force a reorder to NCHW and back around every gate. The ramps are exact, not
 * approximations of the steps:
 *   1[y > 0] = HardSigmoid_{α=2^100}(2^64·y): both scalings are by powers of two, so 2^64·y is
 *     exact, and α·2^64·y ≥ 2^164·2^-149 ≥ 1 for every positive float y, subnormal ones included
 *     (larger values overflow to +∞, which saturates to 1).
 *   1[y < hi] = Clip(s·hi − s·y, 0, 1) with s = 2^(26 − ⌊log2 hi⌋): both products are exact, and
 *     any float y < hi lies at least 2^(⌊log2 hi⌋ − 24) below hi, so the one rounded difference is
 *     ≥ 4 there and exactly 0 at y = hi.
 *   Their product a·b = Relu(a + b − 1), exact on {0, 1}.
 * 'compare' lowering (and every other gate): Greater/Less, And, Cast to float, Mul.
 *
 * Guided Backprop at a two-sided gate (ReLU6) with the ramps is Relu(R + S) for a forward tensor S
 * that is 0 where the gate is open and ≤ −B where it is closed, so that onnxruntime fuses the gate
 * into the backward convolution that produces R; exact for every signal R < B (see offsetGate).
 * Design history: docs/design/rectifier-gates.md
 */
import { floatAttr } from '../ir/graph.js';
import { float32 } from '../ir/tensor.js';
import { mulFact } from './signal.js';
import type { RuleContext } from './types.js';

/** A per-channel 1×1 convolution weight·y + bias over a 4-D tensor of `channels` channels. */
function channelAffine(ctx: RuleContext, y: string, channels: number, weight: number, bias: number): string {
  const { emit } = ctx;
  const w = emit.constant(float32([channels, 1, 1, 1], new Float32Array(channels).fill(weight)), 'rampW');
  const b = emit.constant(float32([channels], new Float32Array(channels).fill(bias)), 'rampB');
  return emit.op('Conv', [y, w, b], { group: channels, kernel_shape: [1, 1] }, 'ramp');
}

/** 1[y > 0] as a float tensor, for y ≥ 0 of shape [N, C, H, W]. */
function above(ctx: RuleContext, y: string): string {
  const channels = ctx.shape(y)[1]!;
  return ctx.emit.op('HardSigmoid', [channelAffine(ctx, y, channels, 2 ** 64, 0)], { alpha: floatAttr(2 ** 100), beta: floatAttr(0) }, 'above');
}

/**
 * top · 1[y < hi] for y ≤ hi of shape [N, C, H, W], top a power of two ≤ 2^100: Clip(s·hi − s·y,
 * 0, top) with s = top · 2^(26 − ⌊log2 hi⌋), exact as explained above (the difference is 0 at
 * y = hi and at least 4·top below it).
 */
function below(ctx: RuleContext, y: string, hi: number, top: number): string {
  const s = top * 2 ** (26 - Math.floor(Math.log2(hi)));
  const { emit } = ctx;
  return emit.op('Clip', [channelAffine(ctx, y, ctx.shape(y)[1]!, -s, hi * s), emit.scalar(0), emit.scalar(top)], {}, 'below');
}

/** 1[0 < y < hi] (hi undefined: 1[y > 0]) as a float tensor, for y ≥ 0 of shape [N, C, H, W]. */
function rampGate(ctx: RuleContext, y: string, hi: number | undefined): string {
  const positive = above(ctx, y);
  if (hi === undefined) return positive;
  const { emit } = ctx;
  // a·b as Relu(a + b − 1): a 1×1 convolution of a with b as its fused Sum input and a fused Relu,
  // faster than the Mul of the two ramps.
  return emit.op('Relu', [emit.op('Add', [channelAffine(ctx, positive, ctx.shape(y)[1]!, 1, -1), below(ctx, y, hi, 1)], {}, 'both')], {}, 'mask');
}

/** Whether the ramps apply: the CPU lowering, a rectifier (lo = 0) and a 4-D forward tensor. */
function rampsApply(ctx: RuleContext, y: string, lo: number, hi: number | undefined): boolean {
  return ctx.lowering.gates === 'ramp' && ctx.shape(y).length === 4 && lo === 0 && (hi === undefined || hi > 0);
}

/** B of offsetGate: 2^100, or less where s·hi in `below` would leave float32's range. */
const offsetScale = (hi: number): number => 2 ** Math.min(100, 100 + Math.floor(Math.log2(hi)));

/**
 * S = B·(a − 2) + B·b ∈ {0, −B, −2B} with a = 1[y > 0] and b = 1[y < hi] (both ramps, the product
 * with B exact): 0 exactly where 0 < y < hi. One 1×1 convolution of a whose Sum input is the
 * second ramp (onnxruntime fuses the Add), so that R + S, and Relu(R + S) = max(0, R) ⊙ 1[0 < y < hi]
 * for every finite R < B, can fuse into the convolution that produces R.
 */
function offsetGate(ctx: RuleContext, y: string, hi: number): string {
  const B = offsetScale(hi);
  const channels = ctx.shape(y)[1]!;
  return ctx.emit.op('Add', [channelAffine(ctx, above(ctx, y), channels, B, -2 * B), below(ctx, y, hi, B)], {}, 'closedOffset');
}

/** R ⊙ 1[lo < y < hi] for a forward tensor y (hi undefined: no upper bound). */
export function gateBetween(ctx: RuleContext, signal: string, y: string, lo: number, hi: number | undefined): string {
  const { emit } = ctx;
  const s = ctx.shape(y);
  if (rampsApply(ctx, y, lo, hi)) return mulFact(ctx, signal, s, rampGate(ctx, y, hi), s);
  const conds = [emit.op('Greater', [y, emit.scalar(lo)])];
  if (hi !== undefined) conds.push(emit.op('Less', [y, emit.scalar(hi)]));
  const cond = conds.length === 2 ? emit.op('And', conds) : conds[0]!;
  return mulFact(ctx, signal, s, emit.op('Cast', [cond], { to: 1 }, 'mask'), s);
}

/**
 * max(0, R) ⊙ 1[lo < y < hi] (Guided Backprop at a rectifier). A two-sided gate with the ramps and
 * one seed takes the offset form Relu(R + S) (see offsetGate); otherwise the Relu, then the gate.
 */
export function positivePartBetween(ctx: RuleContext, signal: string, y: string, lo: number, hi: number | undefined): string {
  const { emit } = ctx;
  // With K seeds the signal is [K·N, …] against S's [N, …], and a broadcasting Add does not fuse.
  if (hi !== undefined && ctx.k === 1 && rampsApply(ctx, y, lo, hi) && offsetScale(hi) >= 2 ** 64) {
    return emit.op('Relu', [emit.op('Add', [signal, offsetGate(ctx, y, hi)], {}, 'offset')], {}, 'Rectify');
  }
  return gateBetween(ctx, emit.op('Relu', [signal], {}, 'Rectify'), y, lo, hi);
}
